#include "duplex/proto/http_range.h"

#include <gtest/gtest.h>

#include "duplex/proto/http_router.h"
#include "duplex/proto/http_static.h"

namespace duplex::http {
namespace {

TEST(HttpRange, ParsesFirstLastOpenAndSuffixRanges) {
  RangeSet set;
  ASSERT_EQ(parse_ranges("bytes=0-9, 90-, -5", 100, set), RangeResult::kOk);
  ASSERT_EQ(set.size(), 3u);
  EXPECT_EQ(set[0].first, 0u);
  EXPECT_EQ(set[0].last, 9u);
  EXPECT_EQ(set[1].first, 90u);
  EXPECT_EQ(set[1].last, 99u);
  EXPECT_EQ(set[2].first, 95u);
  EXPECT_EQ(set[2].last, 99u);
}

TEST(HttpRange, ClampsTheLastBytePastTheEnd) {
  RangeSet set;
  ASSERT_EQ(parse_ranges("bytes=50-1000", 100, set), RangeResult::kOk);
  EXPECT_EQ(set[0].last, 99u);
}

TEST(HttpRange, RangeStartingPastTheEndIsUnsatisfiable) {
  RangeSet set;
  EXPECT_EQ(parse_ranges("bytes=100-200", 100, set), RangeResult::kUnsatisfiable);
  EXPECT_EQ(parse_ranges("bytes=-0", 100, set), RangeResult::kUnsatisfiable);
}

TEST(HttpRange, MalformedOrForeignUnitsOrTooManyRangesAreIgnored) {
  RangeSet set;
  EXPECT_EQ(parse_ranges("items=0-1", 100, set), RangeResult::kIgnore);
  EXPECT_EQ(parse_ranges("bytes=5-1", 100, set), RangeResult::kIgnore);
  EXPECT_EQ(parse_ranges("bytes=a-b", 100, set), RangeResult::kIgnore);
  std::string many = "bytes=0-0";
  for (int i = 1; i < 20; ++i) many += "," + std::to_string(i) + "-" + std::to_string(i);
  EXPECT_EQ(parse_ranges(many, 100, set), RangeResult::kIgnore);
}

TEST(HttpStatic, MimeTypesFollowTheExtensionCaseInsensitively) {
  EXPECT_EQ(mime_type("a/b/index.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type("x.wasm"), "application/wasm");
  EXPECT_EQ(mime_type("noext"), "application/octet-stream");
  EXPECT_EQ(mime_type(".bashrc"), "application/octet-stream");
}

TEST(HttpStatic, HtmlEscapeCoversMarkupAndQuotes) {
  EXPECT_EQ(html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
}

TEST(HttpRouter, PercentDecodeRefusesBadEscapesAndNul) {
  std::string out;
  EXPECT_TRUE(percent_decode("/a%20b%2e", out));
  EXPECT_EQ(out, "/a b.");
  EXPECT_FALSE(percent_decode("/a%2", out));
  EXPECT_FALSE(percent_decode("/a%zz", out));
  EXPECT_FALSE(percent_decode("/a%00b", out));
}

}  // namespace
}  // namespace duplex::http
