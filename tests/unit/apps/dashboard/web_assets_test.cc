// apps/web_assets: the dashboard's files embedded at build time are the files under web/,
// byte for byte, with their MIME types and content ETags.
#include "duplex/apps/dashboard/web_assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "duplex/proto/http_static.h"

namespace duplex::apps {
namespace {

namespace fs = std::filesystem;

const fs::path kWebDir = DUPLEX_WEB_DIR;  // the source tree's web/, set by tests/CMakeLists.txt

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::set<std::string> files_under_web() {
  std::set<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(kWebDir)) {
    if (entry.is_regular_file()) {
      paths.insert("/" + entry.path().lexically_relative(kWebDir).generic_string());
    }
  }
  return paths;
}

TEST(WebAssets, EveryFileUnderWebIsEmbeddedWithItsExactBytesAndType) {
  const auto paths = files_under_web();
  ASSERT_FALSE(paths.empty()) << kWebDir << " has no files";
  for (const auto& path : paths) {
    const auto asset = find_web_asset(path);
    ASSERT_TRUE(asset.has_value()) << path << " is under web/ but not embedded";
    EXPECT_EQ(asset->path, path);
    EXPECT_EQ(asset->body, read_file(kWebDir / path.substr(1))) << path << " differs from web/";
    EXPECT_EQ(asset->content_type, http::mime_type(path)) << path;
  }
}

TEST(WebAssets, EmbedsNothingThatIsNotUnderWeb) {
  std::set<std::string> embedded;
  for (const auto& asset : web_assets()) embedded.insert(std::string(asset.path));
  EXPECT_EQ(embedded, files_under_web());
}

TEST(WebAssets, TheDashboardsFilesHaveTheirBrowserTypes) {
  EXPECT_EQ(find_web_asset("/index.html")->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(find_web_asset("/app.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_web_asset("/style.css")->content_type, "text/css; charset=utf-8");
}

TEST(WebAssets, RootMeansIndexHtml) {
  const auto root = find_web_asset("/");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->path, "/index.html");
  EXPECT_EQ(root->body, read_file(kWebDir / "index.html"));
}

TEST(WebAssets, UnknownPathsAreNotFound) {
  EXPECT_FALSE(find_web_asset("/missing.js").has_value());
  EXPECT_FALSE(find_web_asset("").has_value());
  EXPECT_FALSE(find_web_asset("index.html").has_value());  // paths start with "/"
  EXPECT_FALSE(find_web_asset("/index.html/").has_value());
  EXPECT_FALSE(find_web_asset("/../web/index.html").has_value());
}

TEST(WebAssets, EtagsAreQuotedSha256AndDifferWhereTheBytesDiffer) {
  std::set<std::string_view> etags;
  for (const auto& asset : web_assets()) {
    ASSERT_EQ(asset.etag.size(), 66u) << asset.path << ": " << asset.etag;
    EXPECT_EQ(asset.etag.front(), '"');
    EXPECT_EQ(asset.etag.back(), '"');
    EXPECT_EQ(asset.etag.find_first_not_of("0123456789abcdef", 1), 65u) << asset.etag;
    etags.insert(asset.etag);
  }
  EXPECT_EQ(etags.size(), web_assets().size());
}

TEST(WebAssets, ListIsSortedByPath) {
  const auto& assets = web_assets();
  for (std::size_t i = 1; i < assets.size(); ++i) EXPECT_LT(assets[i - 1].path, assets[i].path);
}

}  // namespace
}  // namespace duplex::apps
