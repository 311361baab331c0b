// Internal to the CLI. `duplex arp`: the neighbour table (arp.cc), ARP ping and scan
// (arp_ping.cc), the passive monitor (arp_watch.cc).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "commands.h"
#include "duplex/link/mac_address.h"

namespace duplex::cli::arp {

// The vendor of `mac` from the OUI registry; nullopt for a locally administered address,
// a group address or an unassigned block.
std::optional<std::string> vendor(const link::MacAddress& mac);
// The vendor as a JSON string or null.
nlohmann::json vendor_json(const link::MacAddress& mac);
// The vendor for people: "Cisco Systems, Inc", "(locally administered)" or "(unknown)".
std::string vendor_text(const link::MacAddress& mac);

}  // namespace duplex::cli::arp
