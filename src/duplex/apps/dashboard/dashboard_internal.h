// Internal to apps/dashboard_*.cc. The parts of `duplex serve`'s JSON API that do more
// than translate: the Connections table's link-layer view of each peer, and whether this
// process may change the neighbour table. Any thread (they read the kernel's tables).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "duplex/apps/dashboard/dashboard.h"

namespace duplex::apps::dashboard {

// {"count": N, "connections": [...]}, each snapshot with the peer's MAC, vendor and the
// subnet AND of docs/api.md.
nlohmann::json connections_json(const std::vector<ConnectionSnapshot>& snapshots);

// Whether the effective capability set holds CAP_NET_ADMIN (read from /proc/self/status).
bool has_cap_net_admin();

}  // namespace duplex::apps::dashboard
