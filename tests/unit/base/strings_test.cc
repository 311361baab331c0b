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

TEST(Quote, ShortensVeryLongText) {
  EXPECT_EQ(quote("ab"), "'ab'");
  EXPECT_EQ(quote(std::string(100, 'x')).size(), 60u + 5u);
}

}  // namespace
}  // namespace duplex
