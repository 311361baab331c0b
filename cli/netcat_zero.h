// Internal to the CLI. `duplex connect -z`: does a port, or each port of a range, accept
// a TCP connection, or (-u) does it answer UDP without an ICMP port unreachable?
// Non-blocking probes, a bounded number at a time, each bounded by --wait.
#pragma once

#include <cstdint>
#include <optional>

#include "duplex/inet/endpoint.h"
#include "netcat.h"

namespace duplex::cli::netcat {

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
};

// "8000" or "8000-8010"; a UsageError names what is wrong.
PortRange parse_port_range(const Args& args, std::string_view text);

// Probes each port of `range` on `host` (its address and scope; its port is not used), from
// `local` when given (-s, -p). TCP: open when the connection is accepted, closed when
// refused, timeout when --wait passes. UDP (-u), as nc -zu: an empty datagram on a connected
// socket; closed when ICMP port unreachable comes back, open otherwise (a reply proves it;
// silence is open|filtered, which -v says).
// Prints "ADDRESS PORT open|closed|timeout" a port (JSON objects with --json) on stdout.
// Returns 0 when at least one port is open, else 1.
int zero_io(const inet::Endpoint& host, PortRange range, const Common& common, const Events& events,
            const std::optional<inet::Endpoint>& local);

}  // namespace duplex::cli::netcat
