#include "duplex/inet/prefix.h"

#include <gtest/gtest.h>

#include <string>

#include "duplex/base/error.h"

namespace duplex::inet {
namespace {

std::string error_of(std::string_view text) {
  try {
    Prefix::parse(text);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "(parsed)";
}

Address A(std::string_view text) { return Address::parse(text); }

TEST(PrefixParse, KeepsTheHostAddressAndTheLength) {
  const auto p = Prefix::parse("172.16.10.1/24");
  EXPECT_EQ(p.address(), A("172.16.10.1"));
  EXPECT_EQ(p.length(), 24u);
  EXPECT_EQ(p.to_string(), "172.16.10.1/24");
  EXPECT_EQ(p.masked().to_string(), "172.16.10.0/24");
  EXPECT_FALSE(p.is_network());
}

TEST(PrefixParse, ReadsDottedHexAndSpaceSeparatedMasks) {
  MaskNotation how{};
  EXPECT_EQ(Prefix::parse("10.1.2.3 255.255.0.0", &how).length(), 16u);
  EXPECT_EQ(how, MaskNotation::dotted);
  EXPECT_EQ(Prefix::parse("10.1.2.3/255.255.255.128", &how).length(), 25u);
  EXPECT_EQ(how, MaskNotation::dotted);
  EXPECT_EQ(Prefix::parse("10.1.2.3 0xffffff00", &how).length(), 24u);
  EXPECT_EQ(how, MaskNotation::hex);
  EXPECT_EQ(Prefix::parse("10.1.2.3/24", &how).length(), 24u);
  EXPECT_EQ(how, MaskNotation::length);
}

TEST(PrefixParse, RecognisesAWildcardMaskAndSaysSo) {
  MaskNotation how{};
  EXPECT_EQ(Prefix::parse("10.1.2.3 0.0.0.255", &how).length(), 24u);
  EXPECT_EQ(how, MaskNotation::wildcard);
  EXPECT_EQ(Prefix::parse("10.1.2.3 0.255.255.255", &how).length(), 8u);
  EXPECT_EQ(how, MaskNotation::wildcard);
}

TEST(PrefixParse, ReadsAllZerosAndAllOnesAsNetmasks) {
  MaskNotation how{};
  EXPECT_EQ(Prefix::parse("10.1.2.3 0.0.0.0", &how).length(), 0u);
  EXPECT_EQ(how, MaskNotation::dotted);
  EXPECT_EQ(Prefix::parse("10.1.2.3 255.255.255.255", &how).length(), 32u);
  EXPECT_EQ(how, MaskNotation::dotted);
}

TEST(PrefixParse, TreatsABareAddressAsAHostPrefix) {
  MaskNotation how{};
  EXPECT_EQ(Prefix::parse("10.0.0.1", &how).length(), 32u);
  EXPECT_EQ(how, MaskNotation::none);
  EXPECT_EQ(Prefix::parse("2001:db8::1").length(), 128u);
}

TEST(PrefixParse, ReadsIPv6Lengths) {
  const auto p = Prefix::parse("2001:db8::1/64");
  EXPECT_EQ(p.network().to_string(), "2001:db8::");
  EXPECT_EQ(p.last().to_string(), "2001:db8::ffff:ffff:ffff:ffff");
}

TEST(PrefixParse, RejectsLengthsBeyondTheFamily) {
  EXPECT_NE(error_of("10.0.0.0/33").find("prefix length 33 is above 32"), std::string::npos);
  EXPECT_NE(error_of("::/129").find("prefix length 129 is above 128"), std::string::npos);
}

TEST(PrefixParse, RejectsNonContiguousMasksWithTheReason) {
  const auto msg = error_of("10.0.0.0 255.0.255.0");
  EXPECT_NE(msg.find("not contiguous"), std::string::npos) << msg;
}

TEST(PrefixParse, RejectsMalformedText) {
  EXPECT_NE(error_of("10.0.0.0/").find("nothing after '/'"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.0/24x").find("is not a prefix length"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.0/-1").find("is not a prefix length"), std::string::npos);
  EXPECT_NE(error_of("2001:db8::/ffff::").find("is not a prefix length"), std::string::npos);
  EXPECT_NE(error_of("2001:db8:: 255.255.0.0").find("IPv6 takes a length"), std::string::npos);
  EXPECT_NE(error_of("300.0.0.0/8").find("octet 300 is above 255"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.0 255.0.0.0 x").find("after the mask"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.1 ").find("trailing space"), std::string::npos);
  EXPECT_FALSE(Prefix::try_parse(""));
}

TEST(PrefixParse, NamesAMissingAddressBeforeTheMask) {
  const auto msg = error_of("/24");
  EXPECT_EQ(msg, "'/24' is not a prefix: no address before the mask; write one, e.g. 192.0.2.0/24");
}

TEST(PrefixParse, RepeatsAtMostFortyCharactersOfA100KbInput) {
  for (const std::string& text :
       {"10.0.0.0/" + std::string(100 * 1024, '0') + "33",
        "10.0.0.0/" + std::string(100 * 1024, 'x'), std::string(100 * 1024, '1') + "/24"}) {
    const std::string msg = error_of(text);
    EXPECT_LT(msg.size(), 400u) << msg.substr(0, 400);
  }
}

TEST(PrefixParse, ParsesMasksOnTheirOwn) {
  EXPECT_EQ(Prefix::parse_mask("24"), 24u);
  EXPECT_EQ(Prefix::parse_mask("/24"), 24u);
  EXPECT_EQ(Prefix::parse_mask("255.255.240.0"), 20u);
  EXPECT_EQ(Prefix::parse_mask("64", Family::v6), 64u);
  EXPECT_THROW(Prefix::parse_mask("255.255.0.255"), ParseError);
  EXPECT_EQ(Prefix::mask_length(A("255.255.255.252")), 30u);
  EXPECT_FALSE(Prefix::mask_length(A("0.0.0.255")));
}

TEST(PrefixFields, GivesEveryFieldOfAnIPv4Slash24) {
  const auto p = Prefix::parse("192.168.1.10/24");
  EXPECT_EQ(p.network().to_string(), "192.168.1.0");
  EXPECT_EQ(p.mask().to_string(), "255.255.255.0");
  EXPECT_EQ(p.wildcard().to_string(), "0.0.0.255");
  EXPECT_EQ(p.broadcast()->to_string(), "192.168.1.255");
  EXPECT_EQ(p.first_host().to_string(), "192.168.1.1");
  EXPECT_EQ(p.last_host().to_string(), "192.168.1.254");
  EXPECT_EQ(*p.host_count(), 254u);
  EXPECT_EQ(*p.address_count(), 256u);
  EXPECT_EQ(p.host_count_decimal(), "254");
}

TEST(PrefixFields, CountsTheWholeIPv4SpaceAtSlash0) {
  const auto p = Prefix::parse("0.0.0.0/0");
  EXPECT_EQ(p.network().to_string(), "0.0.0.0");
  EXPECT_EQ(p.broadcast()->to_string(), "255.255.255.255");
  EXPECT_EQ(p.first_host().to_string(), "0.0.0.1");
  EXPECT_EQ(p.last_host().to_string(), "255.255.255.254");
  EXPECT_EQ(p.address_count_decimal(), "4294967296");
  EXPECT_EQ(p.host_count_decimal(), "4294967294");
}

TEST(PrefixFields, TreatsASlash31AsAPointToPointLink) {
  const auto p = Prefix::parse("10.0.0.1/31");
  EXPECT_EQ(p.first_host().to_string(), "10.0.0.0");
  EXPECT_EQ(p.last_host().to_string(), "10.0.0.1");
  EXPECT_EQ(*p.host_count(), 2u);
  EXPECT_FALSE(p.broadcast());
}

TEST(PrefixFields, TreatsASlash32AsOneHost) {
  const auto p = Prefix::parse("10.0.0.1/32");
  EXPECT_EQ(p.network().to_string(), "10.0.0.1");
  EXPECT_EQ(p.first_host(), p.last_host());
  EXPECT_EQ(*p.host_count(), 1u);
  EXPECT_FALSE(p.broadcast());
}

TEST(PrefixFields, UsesEveryIPv6AddressAndHasNoBroadcast) {
  const auto p = Prefix::parse("2001:db8::/126");
  EXPECT_FALSE(p.broadcast());
  EXPECT_EQ(p.first_host().to_string(), "2001:db8::");
  EXPECT_EQ(p.last_host().to_string(), "2001:db8::3");
  EXPECT_EQ(*p.host_count(), 4u);
  EXPECT_EQ(Prefix::parse("2001:db8::/64").host_count_decimal(), "18446744073709551616");
}

TEST(PrefixFields, CountsAllOfIPv6ExactlyAsText) {
  const auto p = Prefix::parse("::/0");
  EXPECT_FALSE(p.address_count());  // 2^128 does not fit in 128 bits
  EXPECT_EQ(p.address_count_decimal(), "340282366920938463463374607431768211456");
  EXPECT_EQ(p.host_count_decimal(), "340282366920938463463374607431768211456");
  EXPECT_EQ(p.last().to_string(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(p.mask().to_string(), "::");
  EXPECT_EQ(*Prefix::parse("::/1").address_count(), uint128{1} << 127);
}

TEST(PrefixContains, AnswersForAddresses) {
  const auto p = Prefix::parse("172.16.10.1/24");
  EXPECT_TRUE(p.contains(A("172.16.10.2")));
  EXPECT_TRUE(p.contains(A("172.16.10.255")));
  EXPECT_FALSE(p.contains(A("172.16.11.0")));
  EXPECT_FALSE(p.contains(A("::ffff:172.16.10.2")));  // another family
  EXPECT_TRUE(Prefix::parse("0.0.0.0/0").contains(A("1.2.3.4")));
  EXPECT_TRUE(Prefix::parse("::/0").contains(A("::1")));
}

TEST(PrefixContains, AnswersForPrefixes) {
  const auto p = Prefix::parse("10.0.0.0/8");
  EXPECT_TRUE(p.contains(Prefix::parse("10.20.0.0/16")));
  EXPECT_TRUE(p.contains(p));
  EXPECT_FALSE(p.contains(Prefix::parse("0.0.0.0/0")));
  EXPECT_FALSE(Prefix::parse("10.0.0.0/16").contains(Prefix::parse("10.1.0.0/16")));
}

TEST(PrefixSameSubnet, AndsBothAddressesWithTheMask) {
  EXPECT_TRUE(Prefix::same_subnet(A("172.16.10.1"), A("172.16.10.2"), A("255.255.255.0")));
  EXPECT_FALSE(Prefix::same_subnet(A("172.16.10.1"), A("172.16.11.2"), A("255.255.255.0")));
  EXPECT_TRUE(Prefix::same_subnet(A("172.16.10.1"), A("172.16.11.2"), 16));
  EXPECT_TRUE(Prefix::same_subnet(A("2001:db8::1"), A("2001:db8::ffff"), 64));
  EXPECT_FALSE(Prefix::same_subnet(A("1.2.3.4"), A("::ffff:1.2.3.4"), 0));
}

TEST(PrefixConstruct, RefusesALengthBeyondTheFamily) {
  EXPECT_THROW(Prefix(A("10.0.0.0"), 33), Error);
  EXPECT_NO_THROW(Prefix(A("::"), 128));
}

}  // namespace
}  // namespace duplex::inet
