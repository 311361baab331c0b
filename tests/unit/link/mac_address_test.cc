#include "duplex/link/mac_address.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_set>

#include "duplex/base/error.h"

namespace duplex::link {
namespace {

const MacAddress kExample = MacAddress::from_uint64(0x001a2b3c4d5e);

// The message parse() throws for `text`, or "" if it parses.
std::string parse_error(std::string_view text) {
  try {
    MacAddress::parse(text);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(MacAddressParse, AcceptsColonForm) {
  EXPECT_EQ(MacAddress::parse("00:1a:2b:3c:4d:5e"), kExample);
}

TEST(MacAddressParse, AcceptsHyphenForm) {
  EXPECT_EQ(MacAddress::parse("00-1A-2B-3C-4D-5E"), kExample);
}

TEST(MacAddressParse, AcceptsCiscoDotForm) {
  EXPECT_EQ(MacAddress::parse("001a.2b3c.4d5e"), kExample);
}

TEST(MacAddressParse, AcceptsBareHex) { EXPECT_EQ(MacAddress::parse("001a2b3c4d5e"), kExample); }

TEST(MacAddressParse, IgnoresCaseOfHexDigits) {
  EXPECT_EQ(MacAddress::parse("00:1A:2b:3C:4d:5E"), kExample);
  EXPECT_EQ(MacAddress::parse("001A2B3C4D5E"), kExample);
}

TEST(MacAddressParse, AcceptsSingleDigitGroupsAsMacOsPrintsThem) {
  EXPECT_EQ(MacAddress::parse("0:1a:2b:3:4:5e"), MacAddress::from_uint64(0x001a2b03045e));
  EXPECT_EQ(MacAddress::parse("0-1a-2b-3-4-5e"), MacAddress::from_uint64(0x001a2b03045e));
}

TEST(MacAddressParse, RejectsTooFewBytesCountingThem) {
  EXPECT_EQ(parse_error("00:11"), "'00:11' is not a MAC address: 2 of 6 bytes");
}

TEST(MacAddressParse, RejectsTooManyBytesCountingThem) {
  EXPECT_EQ(parse_error("00:11:22:33:44:55:66"),
            "'00:11:22:33:44:55:66' is not a MAC address: 7 bytes, a MAC address has 6");
}

TEST(MacAddressParse, RejectsNonHexDigitNamingIt) {
  EXPECT_EQ(parse_error("zz:zz:zz:zz:zz:zz"),
            "'zz:zz:zz:zz:zz:zz' is not a MAC address: 'z' is not a hex digit (0-9, a-f)");
}

TEST(MacAddressParse, RejectsMixedSeparators) {
  EXPECT_NE(parse_error("00:1a-2b:3c:4d:5e").find("mixes ':' and '-'"), std::string::npos);
  EXPECT_NE(parse_error("001a.2b3c:4d5e").find("mixes '.' and ':'"), std::string::npos);
}

TEST(MacAddressParse, RejectsTrailingGarbage) {
  EXPECT_NE(parse_error("00:1a:2b:3c:4d:5ex").find("'x' is not a hex digit"), std::string::npos);
  EXPECT_NE(parse_error("00:1a:2b:3c:4d:5e:").find("empty group"), std::string::npos);
  EXPECT_NE(parse_error("00:1a:2b:3c:4d:5e ").find("' ' is not a hex digit"), std::string::npos);
}

TEST(MacAddressParse, RejectsEmptyText) {
  EXPECT_EQ(parse_error(""),
            "'' is not a MAC address: it is empty; write six bytes such as "
            "00:1a:2b:3c:4d:5e");
}

TEST(MacAddressParse, RejectsGroupOfThreeDigits) {
  EXPECT_NE(parse_error("001:1a:2b:3c:4d:5e").find("group '001' has 3 hex digits"),
            std::string::npos);
}

TEST(MacAddressParse, RejectsEmptyGroupBetweenSeparators) {
  EXPECT_NE(parse_error("00::2b:3c:4d:5e").find("empty group"), std::string::npos);
}

TEST(MacAddressParse, RejectsBareHexOfWrongLength) {
  EXPECT_EQ(parse_error("001a2b3c4d"),
            "'001a2b3c4d' is not a MAC address: 10 hex digits; without separators a MAC "
            "address has 12");
  EXPECT_NE(parse_error("001a2b3c4d5e6f").find("14 hex digits"), std::string::npos);
}

TEST(MacAddressParse, RejectsCiscoDotFormWithShortGroupOrWrongGroupCount) {
  EXPECT_NE(parse_error("1a.2b3c.4d5e").find("group '1a' needs 4 hex digits"), std::string::npos);
  EXPECT_NE(parse_error("001a.2b3c").find("2 of 3 groups"), std::string::npos);
}

TEST(MacAddressParse, KeepsControlCharactersOutOfTheOneLineMessage) {
  const std::string message = parse_error("00:11\n22");
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_NE(message.find("'\\x0a' is not a hex digit"), std::string::npos);
}

TEST(MacAddressParse, SixGroupsBetweenDotsAreCountedAgainstTheThreeOfTheCiscoForm) {
  const std::string message = parse_error("00.1a.2b.3c.4d.5e");
  EXPECT_EQ(message.find("6 of 3"), std::string::npos) << message;
  EXPECT_NE(message.find("6 groups, but the Cisco dot form has 3"), std::string::npos) << message;
  EXPECT_NE(message.find("00:1a:2b:3c:4d:5e"), std::string::npos) << message;
}

TEST(MacAddressParse, NamesANonAsciiCharacterWholeNotItsFirstByte) {
  EXPECT_NE(parse_error("00:1a:2b:3c:4d:\xc3\xa9").find("'\xc3\xa9' is not a hex digit"),
            std::string::npos);
}

TEST(MacAddressParse, RepeatsAtMostFortyCharactersOfA100KbInput) {
  const std::string message = parse_error(std::string(100 * 1024, 'a'));
  EXPECT_LT(message.size(), 200u) << message.substr(0, 200);
  EXPECT_NE(message.find("...' (102400 bytes)"), std::string::npos);
}

TEST(MacAddressParse, TryParseReturnsNulloptInsteadOfThrowing) {
  EXPECT_EQ(MacAddress::try_parse("00:11"), std::nullopt);
  EXPECT_EQ(MacAddress::try_parse("001a.2b3c.4d5e"), kExample);
}

// Random strings from the characters MACs are made of, plus a few others: parse() and
// try_parse() must agree, every error is one line, and whatever parses prints back to a
// text that parses to the same address.
TEST(MacAddressParse, RandomTextEitherParsesAndRoundTripsOrFailsWithOneLine) {
  constexpr std::string_view kAlphabet = "0123456789abcdefABCDEF:-.xZ \n";
  std::mt19937_64 random(4291);
  std::size_t parsed = 0;
  constexpr MacFormat kForms[] = {MacFormat::colon, MacFormat::hyphen, MacFormat::cisco,
                                  MacFormat::bare};
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    if (i % 2 == 0) {  // pure noise
      text.assign(random() % 18, ' ');
      for (char& c : text) c = kAlphabet[random() % kAlphabet.size()];
    } else {  // a valid form with one character replaced, inserted or removed
      text = MacAddress::from_uint64(random()).to_string(kForms[random() % 4]);
      const auto at = random() % text.size();
      const char c = kAlphabet[random() % kAlphabet.size()];
      switch (random() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(at, 1, c);
          break;
        default:
          text.erase(at, 1);
      }
    }
    const auto maybe = MacAddress::try_parse(text);
    const std::string error = parse_error(text);
    ASSERT_EQ(maybe.has_value(), error.empty()) << text;
    ASSERT_EQ(error.find('\n'), std::string::npos) << text;
    if (maybe) {
      ++parsed;
      ASSERT_EQ(MacAddress::parse(maybe->to_string(MacFormat::cisco)), *maybe) << text;
    }
  }
  EXPECT_GT(parsed, 10000u);  // the mutations that keep a MAC (a digit for a digit) parse
}

TEST(MacAddressPrint, WritesLowerCaseColonByDefault) {
  EXPECT_EQ(MacAddress::parse("00-00-0C-12-34-56").to_string(), "00:00:0c:12:34:56");
}

TEST(MacAddressPrint, WritesEveryForm) {
  EXPECT_EQ(kExample.to_string(MacFormat::hyphen), "00-1A-2B-3C-4D-5E");
  EXPECT_EQ(kExample.to_string(MacFormat::cisco), "001a.2b3c.4d5e");
  EXPECT_EQ(kExample.to_string(MacFormat::bare), "001a2b3c4d5e");
}

TEST(MacAddressPrint, EveryPrintedFormParsesBackToTheSameAddress) {
  const MacAddress mac = MacAddress::from_uint64(0xfedcba987654);
  for (auto f : {MacFormat::colon, MacFormat::hyphen, MacFormat::cisco, MacFormat::bare})
    EXPECT_EQ(MacAddress::parse(mac.to_string(f)), mac);
}

TEST(MacAddressBits, FirstBitOnTheWireMarksGroupAddress) {
  EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:fb").is_group());
  EXPECT_TRUE(kExample.is_individual());
}

TEST(MacAddressBits, SecondBitMarksLocallyAdministeredAddress) {
  EXPECT_TRUE(MacAddress::parse("02:42:ac:11:00:02").is_local());
  EXPECT_TRUE(MacAddress::parse("da:a1:19:00:00:01").is_local());
  EXPECT_TRUE(kExample.is_universal());
}

TEST(MacAddressBits, BroadcastIsAllOnesAndAGroupAddress) {
  const MacAddress b = MacAddress::parse("ff:ff:ff:ff:ff:ff");
  EXPECT_EQ(b, MacAddress::broadcast());
  EXPECT_TRUE(b.is_broadcast());
  EXPECT_TRUE(b.is_group());
  EXPECT_FALSE(MacAddress::parse("01:00:5e:00:00:fb").is_broadcast());
}

TEST(MacAddressBits, OuiIsTheFirstThreeBytes) {
  static_assert(MacAddress::from_uint64(0x00000c123456).oui() == 0x00000c);
  EXPECT_EQ(MacAddress::parse("ac:de:48:00:11:22").oui(), 0xacde48u);
}

TEST(MacAddressEui64, InsertsFffeAndFlipsUniversalLocalBit) {
  EXPECT_EQ(to_string(kExample.modified_eui64()), "02:1a:2b:ff:fe:3c:4d:5e");
  EXPECT_EQ(to_string(MacAddress::parse("02:00:00:00:00:01").modified_eui64()),
            "00:00:00:ff:fe:00:00:01");
}

TEST(MacAddressEui64, LinkLocalAddressIsFe80PlusInterfaceIdInRfc5952Text) {
  EXPECT_EQ(kExample.ipv6_link_local().to_string(), "fe80::21a:2bff:fe3c:4d5e");
  EXPECT_EQ(MacAddress::parse("00:00:0c:12:34:56").ipv6_link_local().to_string(),
            "fe80::200:cff:fe12:3456");
}

TEST(MacAddressEui64, LinkLocalAddressIsInFe80Slash10) {
  EXPECT_TRUE(kExample.ipv6_link_local().is_link_local());
  EXPECT_TRUE(kExample.ipv6_link_local().is_v6());
}

TEST(MacAddressEui64, LinkLocalCompressesTheLongestRunOfZeroGroups) {
  // fe80:0:0:0:0:ff:fe00:0 - the run after fe80 grows into the interface id.
  EXPECT_EQ(MacAddress::parse("02:00:00:00:00:00").ipv6_link_local().to_string(),
            "fe80::ff:fe00:0");
}

TEST(MacAddressValue, ComparesAsItsNumericValue) {
  EXPECT_LT(MacAddress::parse("00:00:00:00:00:ff"), MacAddress::parse("00:00:00:00:01:00"));
  EXPECT_EQ(MacAddress::parse("00:11:22:33:44:55").to_uint64(), 0x001122334455u);
}

TEST(MacAddressValue, HashesEqualAddressesTogether) {
  std::unordered_set<MacAddress> set{kExample, MacAddress::parse("00-1A-2B-3C-4D-5E"),
                                     MacAddress::broadcast()};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace duplex::link
