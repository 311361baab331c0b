// Internal to the CLI. `duplex connect -z`: does a port, or each port of a range, accept
// a TCP connection? Non-blocking connects, at most kConcurrency at a time, each bounded
// by --wait.
#pragma once

#include <cstdint>

#include "duplex/inet/address.h"
#include "netcat.h"

namespace duplex::cli::netcat {

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
};

// "8000" or "8000-8010"; a UsageError names what is wrong.
PortRange parse_port_range(const Args& args, std::string_view text);

// Prints "ADDRESS PORT open|closed|timeout" a port (JSON objects with --json) on stdout.
// Returns 0 when at least one port is open, else 1.
int zero_io(const inet::Address& address, PortRange range, const Common& common,
            const Events& events);

}  // namespace duplex::cli::netcat
