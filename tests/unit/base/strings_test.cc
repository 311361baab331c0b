#include "duplex/base/strings.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace duplex {
namespace {

TEST(Trim, RemovesSpacesTabsAndLineEndsOnBothSides) {
  EXPECT_EQ(trim(" \t10.0.0.1\r\n"), "10.0.0.1");
  EXPECT_EQ(trim("   "), "");
}

TEST(ParseUint, AcceptsDigitsUpToTheLimit) {
  EXPECT_EQ(parse_uint("255", 255), 255u);
  EXPECT_EQ(parse_uint("0", 1), 0u);
}

TEST(ParseUint, RejectsOverflowSignsSpacesAndEmptyText) {
  EXPECT_FALSE(parse_uint("256", 255));
  EXPECT_FALSE(parse_uint("18446744073709551616", UINT64_MAX));
  EXPECT_FALSE(parse_uint("+1", 9));
  EXPECT_FALSE(parse_uint(" 1", 9));
  EXPECT_FALSE(parse_uint("", 9));
}

TEST(Quote, KeepsShortTextWhole) { EXPECT_EQ(quote("ab"), "'ab'"); }

TEST(Quote, CapsA100KbInputAtFortyCharactersAndStatesItsLength) {
  const std::string q = quote(std::string(100 * 1024, 'x'));
  EXPECT_EQ(q, "'" + std::string(40, 'x') + "...' (102400 bytes)");
}

TEST(Quote, CountsCharactersNotBytesAndNeverCutsOneInHalf) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "\xc3\xa9";  // é, two bytes each
  std::string expected = "'";
  for (int i = 0; i < 40; ++i) expected += "\xc3\xa9";
  EXPECT_EQ(quote(text), expected + "...' (100 bytes)");
}

TEST(Quote, ShowsControlCharactersAndInvalidBytesAsHexSoTheLineStaysOneLine) {
  EXPECT_EQ(quote("a\nb\x7f"), "'a\\x0ab\\x7f'");
  EXPECT_EQ(quote("\xff\xc3"), "'\\xff\\xc3'");
}

TEST(CharAt, ReturnsTheWholeUtf8Character) {
  EXPECT_EQ(char_at("1.\xc3\xa9", 2), "\xc3\xa9");                // é
  EXPECT_EQ(char_at("\xe2\x82\xac!", 0), "\xe2\x82\xac");         // €
  EXPECT_EQ(char_at("\xf0\x9f\x98\x80", 0), "\xf0\x9f\x98\x80");  // an emoji
  EXPECT_EQ(char_at("ab", 1), "b");
}

TEST(CharAt, ReturnsOneByteWhereNoValidSequenceStarts) {
  EXPECT_EQ(char_at("\xc3", 0), "\xc3");          // truncated
  EXPECT_EQ(char_at("\xc0\xaf", 0), "\xc0");      // overlong '/'
  EXPECT_EQ(char_at("\xed\xa0\x80", 0), "\xed");  // a UTF-16 surrogate
  EXPECT_EQ(char_at("\x80x", 0), "\x80");         // a stray continuation byte
  EXPECT_EQ(char_at("ab", 2), "");
}

}  // namespace
}  // namespace duplex
