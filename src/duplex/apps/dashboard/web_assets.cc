#include "duplex/apps/dashboard/web_assets.h"

#include <algorithm>

#include "duplex/apps/dashboard/internal/web_assets_table.h"

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

}  // namespace duplex::apps
