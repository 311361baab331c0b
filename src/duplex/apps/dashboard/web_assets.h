// Public. The dashboard's static files (web/ in the source tree), embedded in the binary at
// build time, so `duplex serve` needs no files next to it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/proto/http_router.h"

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

// The GET route for the page's files: the embedded ones (ETag, 304 on If-None-Match), or
// those under `web_dir` when given (front-end work). Paths under /api/ are a JSON 404.
http::RouteHandler page_files_route(const std::optional<std::string>& web_dir);

}  // namespace duplex::apps
