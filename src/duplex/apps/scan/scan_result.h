// Public. What a scan found on one host: each port's state in nmap's words, and why.
//
// A value handed to the caller when every port of the host has its state.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "duplex/apps/scan/ports.h"
#include "duplex/apps/scan/rtt.h"
#include "duplex/apps/scan/targets.h"

namespace duplex::scan {

// nmap's states: open (a connection, or a UDP answer), closed (a TCP reset, or ICMP port
// unreachable for UDP), filtered (no answer, or an ICMP error other than port unreachable),
// open|filtered (UDP without any answer: the two cannot be told apart).
enum class PortState : std::uint8_t { open, closed, filtered, open_filtered };
inline constexpr std::size_t kPortStates = 4;
std::string_view to_string(PortState s) noexcept;  // "open", "open|filtered"...

// Why a port has its state, in nmap --reason's words.
enum class Reason : std::uint8_t {
  syn_ack,           // the connection was made
  conn_refused,      // a TCP reset (ECONNREFUSED)
  no_response,       // every try timed out
  host_unreach,      // ICMP host unreachable (EHOSTUNREACH), admin-prohibited included
  net_unreach,       // ICMP network unreachable, or no route (ENETUNREACH)
  admin_prohibited,  // refused by this machine's own firewall (EACCES, EPERM)
  port_unreach,      // ICMP port unreachable (UDP)
  udp_response,      // a UDP answer
  error,             // another error from the kernel
};
std::string_view to_string(Reason r) noexcept;  // "syn-ack", "conn-refused"...

struct PortOutcome {
  PortState state = PortState::filtered;
  Reason reason = Reason::no_response;
};

struct HostResult {
  Target target;
  Protocol protocol = Protocol::tcp;
  std::span<const std::uint16_t> ports;  // the scan's ports, in probe order
  std::vector<PortOutcome> outcomes;     // one per port, aligned with `ports`
  std::vector<std::string> banners;      // with --banner: one per port ("" for none)
  RttEstimator rtt;

  std::size_t count(PortState s) const noexcept;
  // Indexes into ports/outcomes in ascending port order (as reports list them).
  std::vector<std::size_t> by_port() const;
};

}  // namespace duplex::scan
