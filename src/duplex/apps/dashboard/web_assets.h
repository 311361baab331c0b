// Public. The dashboard's static files (web/ in the source tree), embedded in the binary at
// build time, so `duplex serve` needs no files next to it.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace duplex::apps {

struct WebAsset {
  std::string_view path;          // "/index.html", "/app.js" (as under web/, with a leading /)
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
  std::string_view etag;  // strong validator of the content, quoted: "\"3f2a...\""
};

// The asset at `path`; "/" means "/index.html". nullopt when there is none.
std::optional<WebAsset> find_web_asset(std::string_view path);
// Every embedded asset, sorted by path.
const std::vector<WebAsset>& web_assets();

}  // namespace duplex::apps
