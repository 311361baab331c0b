#include "duplex/inet/address.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_set>

#include "duplex/base/error.h"
#include "duplex/inet/prefix.h"

namespace duplex::inet {
namespace {

std::string error_of(std::string_view text) {
  try {
    Address::parse(text);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "(parsed)";
}

// --- IPv4 notations -----------------------------------------------------------------

TEST(AddressParse, ReadsDottedDecimal) {
  const auto a = Address::parse("192.168.1.10");
  EXPECT_TRUE(a.is_v4());
  EXPECT_EQ(a.to_uint32(), 0xC0A8010Au);
  EXPECT_EQ(a.to_string(), "192.168.1.10");
}

TEST(AddressParse, ReadsTheEdgesOfTheIPv4Space) {
  EXPECT_EQ(Address::parse("0.0.0.0").to_uint32(), 0u);
  EXPECT_EQ(Address::parse("255.255.255.255").to_uint32(), 0xffffffffu);
}

TEST(AddressParse, ReadsA32BitInteger) {
  EXPECT_EQ(Address::parse("3232235786").to_string(), "192.168.1.10");
  EXPECT_EQ(Address::parse("0").to_string(), "0.0.0.0");
  EXPECT_EQ(Address::parse("4294967295").to_string(), "255.255.255.255");
}

TEST(AddressParse, ReadsHexInEitherCase) {
  EXPECT_EQ(Address::parse("0xC0A8010A").to_string(), "192.168.1.10");
  EXPECT_EQ(Address::parse("0Xc0a8010a").to_string(), "192.168.1.10");
  EXPECT_EQ(Address::parse("0x1").to_string(), "0.0.0.1");
}

TEST(AddressParse, ReadsDottedBinary) {
  EXPECT_EQ(Address::parse("11000000.10101000.00000001.00001010").to_string(), "192.168.1.10");
}

TEST(AddressParse, RejectsAnOctetAbove255WithTheExactMessage) {
  EXPECT_EQ(error_of("300.1.1.1"), "'300.1.1.1' is not an IPv4 address: octet 300 is above 255");
  EXPECT_NE(error_of("1.2.3.1000").find("octet 1000 is above 255"), std::string::npos);
}

TEST(AddressParse, RejectsLeadingZerosAsAmbiguousOctal) {
  const auto msg = error_of("010.1.1.1");
  EXPECT_NE(msg.find("leading zero"), std::string::npos) << msg;
  EXPECT_NE(msg.find("octal"), std::string::npos) << msg;
  EXPECT_NE(msg.find("write 10 (or 8 if octal was meant)"), std::string::npos) << msg;
  EXPECT_NE(error_of("0123").find("leading zero"), std::string::npos);
  EXPECT_NE(error_of("1.2.3.00").find("leading zero"), std::string::npos);
}

TEST(AddressParse, RejectsWrongOctetCounts) {
  EXPECT_NE(error_of("1.2.3").find("it has 3 octets; an IPv4 address has 4"), std::string::npos);
  EXPECT_NE(error_of("1.2.3.4.5").find("it has 5 octets"), std::string::npos);
  EXPECT_NE(error_of("1..3.4").find("octet 2 is empty"), std::string::npos);
  EXPECT_NE(error_of("1.2.3.").find("octet 4 is empty"), std::string::npos);
}

TEST(AddressParse, RejectsTrailingGarbageAndSpaces) {
  EXPECT_NE(error_of("1.2.3.4x").find("unexpected character 'x'"), std::string::npos);
  EXPECT_NE(error_of("1.2.3.4 ").find("unexpected character ' '"), std::string::npos);
  EXPECT_NE(error_of(" 1.2.3.4").find("unexpected"), std::string::npos);
  EXPECT_FALSE(Address::try_parse("1.2.3.4\n"));
  EXPECT_FALSE(Address::try_parse("-1.2.3.4"));
}

TEST(AddressParse, NamesANonAsciiCharacterWholeNotItsFirstByte) {
  EXPECT_NE(error_of("1.2.3.\xc3\xa9").find("unexpected character '\xc3\xa9'"), std::string::npos);
  EXPECT_NE(error_of("2001:db8::\xe2\x82\xac").find("'\xe2\x82\xac' is not a hex digit"),
            std::string::npos);
}

TEST(AddressParse, RepeatsAtMostFortyCharactersOfA100KbInput) {
  for (const char c : {'1', 'x', ':'}) {
    const std::string message = error_of(std::string(100 * 1024, c));
    EXPECT_LT(message.size(), 250u) << message.substr(0, 250);
    EXPECT_NE(message.find("...' (102400 bytes)"), std::string::npos) << message;
  }
  const std::string octet = error_of("1.2.3." + std::string(100 * 1024, '9'));
  EXPECT_LT(octet.size(), 250u) << octet.substr(0, 250);
}

TEST(AddressParse, RejectsEmptyText) {
  EXPECT_EQ(error_of(""), "an empty string is not an IP address");
  EXPECT_FALSE(Address::try_parse(""));
}

TEST(AddressParse, RejectsWordsWithAHintOfTheNotations) {
  EXPECT_NE(error_of("localhost").find("expected dotted decimal"), std::string::npos);
}

TEST(AddressParse, RejectsIntegersAndHexBeyond32Bits) {
  EXPECT_NE(error_of("4294967296").find("above 4294967295"), std::string::npos);
  EXPECT_NE(error_of("0x100000000").find("9 hex digits"), std::string::npos);
  EXPECT_NE(error_of("0x").find("no hex digits"), std::string::npos);
  EXPECT_NE(error_of("0xC0G8").find("'G' is not a hex digit"), std::string::npos);
}

TEST(AddressParse, RejectsBinaryMixedWithDecimal) {
  EXPECT_NE(error_of("11000000.168.1.10").find("mixes 8-bit binary"), std::string::npos);
}

// --- IPv6 ---------------------------------------------------------------------------

TEST(AddressParse, ReadsFullAndCompressedIPv6) {
  const auto full = Address::parse("2001:0db8:0000:0000:0000:0000:0000:0001");
  const auto compressed = Address::parse("2001:DB8::1");
  EXPECT_TRUE(full.is_v6());
  EXPECT_EQ(full, compressed);
  EXPECT_EQ(Address::parse("::").to_string(), "::");
  EXPECT_EQ(Address::parse("::1").to_string(), "::1");
  EXPECT_EQ(Address::parse("1::").to_string(), "1::");
}

TEST(AddressParse, ReadsEmbeddedIPv4) {
  const auto a = Address::parse("::ffff:1.2.3.4");
  EXPECT_TRUE(a.is_v4_mapped());
  EXPECT_EQ(a.to_string(), "::ffff:1.2.3.4");
  EXPECT_EQ(a.unmapped(), Address::parse("1.2.3.4"));
  EXPECT_EQ(Address::parse("64:ff9b::192.0.2.33").to_string(), "64:ff9b::c000:221");
  EXPECT_EQ(Address::parse("1:2:3:4:5:6:1.2.3.4").to_expanded(),
            "0001:0002:0003:0004:0005:0006:0102:0304");
}

TEST(AddressParse, RejectsMalformedIPv6) {
  EXPECT_NE(error_of("1::2::3").find("'::' appears more than once"), std::string::npos);
  EXPECT_NE(error_of("12345::").find("more than 4 hex digits"), std::string::npos);
  EXPECT_NE(error_of("1:2:3:4:5:6:7").find("it has 7 groups"), std::string::npos);
  EXPECT_NE(error_of("1:2:3:4:5:6:7:8:9").find("more than 8 groups"), std::string::npos);
  EXPECT_NE(error_of("1:2:3:4::5:6:7:8").find("at least one zero group"), std::string::npos);
  EXPECT_NE(error_of(":1::").find("starts with a single ':'"), std::string::npos);
  EXPECT_NE(error_of("1::2:").find("ends with a single ':'"), std::string::npos);
  EXPECT_NE(error_of(":::").find("empty group"), std::string::npos);
  EXPECT_NE(error_of("2001:db8::g").find("'g' is not a hex digit"), std::string::npos);
  EXPECT_NE(error_of("::1.2.3.4:5").find("must come last"), std::string::npos);
  EXPECT_NE(error_of("::ffff:1.2.3.256").find("octet 256 is above 255"), std::string::npos);
  EXPECT_NE(error_of("::ffff:1.2.3.04").find("leading zero"), std::string::npos);
}

TEST(AddressParse, RejectsZoneIdsAndBracketsWithTheReason) {
  EXPECT_NE(error_of("fe80::1%eth0").find("zone ids ('%eth0') are not supported"),
            std::string::npos);
  EXPECT_NE(error_of("[::1]").find("brackets"), std::string::npos);
}

// --- printing -----------------------------------------------------------------------

TEST(AddressPrint, FollowsRfc5952) {
  // 4.1 no leading zeros; 4.3 lowercase
  EXPECT_EQ(Address::parse("2001:0DB8:0000:0000:0000:0000:0000:0001").to_string(), "2001:db8::1");
  // 4.2.1 the longest run is compressed
  EXPECT_EQ(Address::parse("2001:0:0:1:0:0:0:1").to_string(), "2001:0:0:1::1");
  // 4.2.2 a single zero field is not compressed
  EXPECT_EQ(Address::parse("2001:db8:0:1:1:1:1:1").to_string(), "2001:db8:0:1:1:1:1:1");
  // 4.2.3 on a tie, the first run is compressed
  EXPECT_EQ(Address::parse("2001:db8:0:0:1:0:0:1").to_string(), "2001:db8::1:0:0:1");
  EXPECT_EQ(Address::parse("0:0:0:0:0:0:0:0").to_string(), "::");
  EXPECT_EQ(Address::parse("1:0:0:0:0:0:0:0").to_string(), "1::");
  EXPECT_EQ(Address::parse("0:1:1:1:1:1:1:1").to_string(), "0:1:1:1:1:1:1:1");
  EXPECT_EQ(Address::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").to_string(),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(AddressPrint, PrintsEveryNotationOfIPv4) {
  const auto a = Address::parse("192.168.1.10");
  EXPECT_EQ(a.to_hex(), "0xC0A8010A");
  EXPECT_EQ(a.to_decimal(), "3232235786");
  EXPECT_EQ(a.to_binary(), "11000000.10101000.00000001.00001010");
  EXPECT_EQ(a.reverse_dns(), "10.1.168.192.in-addr.arpa");
  EXPECT_EQ(Address::parse("10.0.0.1").to_hex(), "0x0A000001");
}

TEST(AddressPrint, PrintsEveryNotationOfIPv6) {
  const auto a = Address::parse("2001:db8::1");
  EXPECT_EQ(a.to_expanded(), "2001:0db8:0000:0000:0000:0000:0000:0001");
  EXPECT_EQ(a.to_hex(), "0x20010DB8000000000000000000000001");
  EXPECT_EQ(a.to_decimal(), "42540766411282592856903984951653826561");
  EXPECT_EQ(a.reverse_dns(),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(a.to_binary().substr(0, 17), "0010000000000001:");
  EXPECT_EQ(Address::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").to_decimal(),
            "340282366920938463463374607431768211455");
}

TEST(AddressPrint, RoundTripsThroughParse) {
  for (const char* text : {"0.0.0.0", "1.2.3.4", "255.255.255.255", "::", "::1", "fe80::1",
                           "2001:db8::8:800:200c:417a", "::ffff:10.0.0.1", "ff02::1:ff00:1"}) {
    EXPECT_EQ(Address::parse(text).to_string(), text);
  }
}

// --- classification -----------------------------------------------------------------

struct ClassCase {
  const char* address;
  Category category;
  bool global;
};

class Classification : public ::testing::TestWithParam<ClassCase> {};

TEST_P(Classification, MatchesTheIanaRegistry) {
  const auto& c = GetParam();
  const auto a = Address::parse(c.address);
  EXPECT_EQ(to_string(a.category()), to_string(c.category)) << c.address;
  EXPECT_EQ(a.is_global(), c.global) << c.address;
  if (const auto* block = a.special()) {  // the row's text names a block holding the address
    const auto p = Prefix::parse(block->prefix);
    EXPECT_TRUE(p.is_network()) << block->prefix;
    EXPECT_TRUE(p.contains(a)) << block->prefix;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, Classification,
    ::testing::Values(ClassCase{"8.8.8.8", Category::global, true},
                      ClassCase{"0.0.0.0", Category::unspecified, false},
                      ClassCase{"0.1.2.3", Category::this_network, false},
                      ClassCase{"10.1.2.3", Category::private_use, false},
                      ClassCase{"172.16.0.1", Category::private_use, false},
                      ClassCase{"172.31.255.255", Category::private_use, false},
                      ClassCase{"172.32.0.1", Category::global, true},
                      ClassCase{"192.168.1.1", Category::private_use, false},
                      ClassCase{"100.64.0.1", Category::shared_cgnat, false},
                      ClassCase{"100.127.255.255", Category::shared_cgnat, false},
                      ClassCase{"100.128.0.0", Category::global, true},
                      ClassCase{"127.0.0.1", Category::loopback, false},
                      ClassCase{"169.254.1.1", Category::link_local, false},
                      ClassCase{"192.0.2.1", Category::documentation, false},
                      ClassCase{"198.51.100.7", Category::documentation, false},
                      ClassCase{"203.0.113.9", Category::documentation, false},
                      ClassCase{"198.18.0.1", Category::benchmarking, false},
                      ClassCase{"192.0.0.9", Category::protocol, true},
                      ClassCase{"224.0.0.251", Category::multicast, false},
                      ClassCase{"240.0.0.1", Category::reserved, false},
                      ClassCase{"255.255.255.255", Category::broadcast, false},
                      ClassCase{"::", Category::unspecified, false},
                      ClassCase{"::1", Category::loopback, false},
                      ClassCase{"::ffff:1.2.3.4", Category::ipv4_mapped, false},
                      ClassCase{"64:ff9b::1.2.3.4", Category::translation, true},
                      ClassCase{"fe80::1", Category::link_local, false},
                      ClassCase{"fd12:3456::1", Category::unique_local, false},
                      ClassCase{"ff02::1", Category::multicast, false},
                      ClassCase{"2001:db8::1", Category::documentation, false},
                      ClassCase{"3fff::1", Category::documentation, false},
                      ClassCase{"2001::1", Category::tunnel, false},
                      ClassCase{"2002::1", Category::tunnel, false},
                      ClassCase{"2606:4700::1111", Category::global, true},
                      ClassCase{"4000::1", Category::reserved, false},
                      ClassCase{"fec0::1", Category::reserved, false}));

TEST(Classification, NamesTheMostSpecificBlock) {
  const auto* b = Address::parse("192.0.0.8").special();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->prefix, "192.0.0.8/32");
  EXPECT_EQ(b->rfc, "RFC 7600");
  EXPECT_EQ(Address::parse("8.8.8.8").special(), nullptr);
}

TEST(Classification, PredicatesAgreeWithTheCategory) {
  EXPECT_TRUE(Address::parse("10.0.0.1").is_private());
  EXPECT_FALSE(Address::parse("fd00::1").is_private());  // RFC 1918 is IPv4 only
  EXPECT_TRUE(Address::parse("fd00::1").is_unique_local());
  EXPECT_TRUE(Address::parse("100.64.0.1").is_cgnat());
  EXPECT_TRUE(Address::parse("::").is_unspecified());
  EXPECT_TRUE(Address::parse("255.255.255.255").is_broadcast());
  EXPECT_TRUE(Address::parse("240.0.0.1").is_reserved());
  EXPECT_TRUE(Address::parse("ff05::2").is_multicast());
  EXPECT_TRUE(Address::parse("fe80::2").is_link_local());
  EXPECT_TRUE(Address::parse("127.3.2.1").is_loopback());
  EXPECT_TRUE(Address::parse("2001:db8:1::").is_documentation());
}

TEST(Classification, GivesTheClassfulClass) {
  EXPECT_EQ(Address::parse("10.0.0.1").ipv4_class(), 'A');
  EXPECT_EQ(Address::parse("127.255.255.255").ipv4_class(), 'A');
  EXPECT_EQ(Address::parse("128.0.0.0").ipv4_class(), 'B');
  EXPECT_EQ(Address::parse("192.168.0.1").ipv4_class(), 'C');
  EXPECT_EQ(Address::parse("224.0.0.1").ipv4_class(), 'D');
  EXPECT_EQ(Address::parse("240.0.0.1").ipv4_class(), 'E');
  EXPECT_EQ(Address::parse("::1").ipv4_class(), 0);
}

// --- value semantics and bit operations ---------------------------------------------

TEST(AddressValue, OrdersIPv4BeforeIPv6ThenNumerically) {
  EXPECT_LT(Address::parse("9.255.255.255"), Address::parse("10.0.0.0"));
  EXPECT_LT(Address::parse("255.255.255.255"), Address::parse("::"));
  EXPECT_NE(Address::parse("0.0.0.1"), Address::parse("::1"));
}

TEST(AddressValue, HashesEqualValuesEqually) {
  std::unordered_set<Address> set{Address::parse("10.0.0.1"), Address::parse("::a00:1")};
  EXPECT_EQ(set.count(Address::parse("167772161")), 1u);
  EXPECT_EQ(set.size(), 2u);
}

TEST(AddressBits, AndsOrsAndInverts) {
  const auto a = Address::parse("172.16.10.1");
  const auto mask = Address::parse("255.255.255.0");
  EXPECT_EQ((a & mask).to_string(), "172.16.10.0");
  EXPECT_EQ((a | ~mask).to_string(), "172.16.10.255");
  EXPECT_EQ((~mask).to_string(), "0.0.0.255");
  EXPECT_THROW((void)(a & Address::parse("ffff::")), Error);
}

TEST(AddressBits, AddsAndSubtractsModuloTheFamilySize) {
  EXPECT_EQ((Address::parse("10.0.0.255") + 1).to_string(), "10.0.1.0");
  EXPECT_EQ((Address::parse("255.255.255.255") + 1).to_string(), "0.0.0.0");
  EXPECT_EQ((Address::parse("0.0.0.0") - 1).to_string(), "255.255.255.255");
  EXPECT_EQ((Address::parse("::ffff:ffff:ffff:ffff") + 1).to_string(), "0:0:0:1::");
  EXPECT_EQ((Address::parse("::") - 1).to_string(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

}  // namespace
}  // namespace duplex::inet

namespace duplex::inet {
namespace {

// A bounded property test: random text built from the characters addresses are made of.
// Whatever parses must print canonically and re-parse to the same value; whatever does not
// must fail in try_parse() too, and parse() must say why in one line.
TEST(AddressProperty, ParseAndTryParseAgreeAndCanonicalTextRoundTrips) {
  std::mt19937 rng(12345);
  constexpr std::string_view kAlphabet = "0123456789abcdefABx.:%[]/ ";
  std::uniform_int_distribution<std::size_t> len(0, 24);
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  int parsed = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    const std::size_t n = len(rng);
    for (std::size_t k = 0; k < n; ++k) text.push_back(kAlphabet[pick(rng)]);
    const auto a = Address::try_parse(text);
    if (!a) {
      try {
        Address::parse(text);
        ADD_FAILURE() << "parse accepted what try_parse refused: " << text;
      } catch (const ParseError& e) {
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << text;
      }
      continue;
    }
    ++parsed;
    EXPECT_EQ(Address::parse(a->to_string()), *a) << text;
    EXPECT_EQ(Address::parse(a->to_expanded()), *a) << text;
    if (a->is_v4()) {
      EXPECT_EQ(Address::parse(a->to_hex()), *a) << text;
    }
  }
  EXPECT_GT(parsed, 100);  // the alphabet does produce valid addresses
}

}  // namespace
}  // namespace duplex::inet
