// Internal to the apps layer. The embedded web/ files as the build generates them
// (tools/embed_web.cc writes the definitions; apps/web_assets.cc serves from them).
// Constant data, safe from any thread.
#pragma once

#include <cstddef>

#include "duplex/apps/dashboard/web_assets.h"

namespace duplex::apps::internal {

// Sorted by path; kWebAssetCount entries (the array holds one empty entry when there are none).
extern const WebAsset kWebAssets[];
extern const std::size_t kWebAssetCount;

}  // namespace duplex::apps::internal
