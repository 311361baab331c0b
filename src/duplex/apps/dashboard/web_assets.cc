#include "duplex/apps/dashboard/web_assets.h"

#include <algorithm>

#include "duplex/apps/dashboard/internal/web_assets_table.h"
#include "duplex/proto/http_json.h"
#include "duplex/proto/http_static.h"

namespace duplex::apps {

const std::vector<WebAsset>& web_assets() {
  static const std::vector<WebAsset> assets(internal::kWebAssets,
                                            internal::kWebAssets + internal::kWebAssetCount);
  return assets;
}

std::optional<WebAsset> find_web_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  const auto& assets = web_assets();
  const auto it =
      std::lower_bound(assets.begin(), assets.end(), path,
                       [](const WebAsset& a, std::string_view p) { return a.path < p; });
  if (it == assets.end() || it->path != path) return std::nullopt;
  return *it;
}

http::RouteHandler page_files_route(const std::optional<std::string>& web_dir) {
  std::optional<http::Handler> files;
  if (web_dir) files = http::static_files({*web_dir, false});
  return [files](const http::Request& req, const http::Params&, http::Response& res) {
    if (req.path.substr(0, 5) == "/api/" || req.path == "/api") {
      http::send_json_error(res, 404, "no such API route; see docs/api.md");
      return;
    }
    if (files) {
      (*files)(req, res);
      return;
    }
    auto asset = find_web_asset(req.path);
    if (!asset) {
      res.text(404, "not found: " + std::string(req.path) + "\n");
      return;
    }
    res.set("ETag", std::string(asset->etag));
    res.set("Cache-Control", "no-cache");
    if (auto inm = req.header("If-None-Match"); inm && *inm == asset->etag) {
      res.status = 304;
      return;
    }
    res.text(200, std::string(asset->body), asset->content_type);
  };
}

}  // namespace duplex::apps
