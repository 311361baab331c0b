// Internal to the CLI. `duplex arp`: the neighbour table (arp.cc), ARP ping and scan
// (arp_ping.cc), the passive monitor (arp_watch.cc).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "args.h"
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

// The value of --name as seconds (decimals allowed, at least `min`); a UsageError otherwise.
std::optional<std::chrono::nanoseconds> seconds_option(const Args& args, std::string_view name,
                                                       double min);
// A round trip in milliseconds with three decimals: "0.412" (arp ping, ndp).
std::string ms(std::chrono::nanoseconds d);
// SIGINT and SIGTERM set a flag that interrupted() reports, so that a running ping, scan or
// watch ends its loop cleanly and prints its summary.
void install_interrupt_handler();
bool interrupted();

int ping_main(Argv args);   // arp_ping.cc
int scan_main(Argv args);   // arp_scan.cc
int watch_main(Argv args);  // arp_watch.cc

}  // namespace duplex::cli::arp
