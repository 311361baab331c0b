// Public. ARP scan: one request to every address of an IPv4 prefix on one interface, at a
// bounded rate, and the list of who answered. Silent addresses are asked again in later
// rounds (ARP is unreliable, and a busy host may drop a request).
//
// Runs on the calling thread until done. FIXME: its own poll() loop until the reactor's
// EventLoop lands; then the pacing becomes a timer on the loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "duplex/inet/address.h"
#include "duplex/inet/prefix.h"
#include "duplex/link/interface.h"
#include "duplex/link/mac_address.h"

namespace duplex::link {

struct ArpScanOptions {
  static constexpr std::uint64_t kMaxAddresses = 65536;  // a /16

  inet::Prefix prefix;
  Interface interface;
  std::optional<inet::Address> source;  // default: ours on the prefix's subnet
  unsigned rate = 100;                  // requests per second
  unsigned rounds = 2;                  // the first, and one more for the silent ones
  // For late replies: the least time between two requests to one address, and the wait
  // after the last pass (arp-scan's default per-host timeout).
  std::chrono::nanoseconds wait = std::chrono::milliseconds(500);
  std::function<bool()> stop;  // asked between waits; true ends the scan early
};

struct ArpScanHost {
  inet::Address ip;
  MacAddress mac;
  std::chrono::nanoseconds rtt{};  // since the request it answered
};

struct ArpScanResult {
  inet::Address source;
  std::uint64_t addresses = 0;  // how many addresses the prefix asked about
  unsigned sent = 0;
  std::vector<ArpScanHost> hosts;  // by IP; an IP answered by two MACs appears twice
  bool interrupted = false;
};

// Throws duplex::Error for an IPv6 prefix, one larger than kMaxAddresses, an interface with
// no IPv4 address, or a packet socket refused (CAP_NET_RAW). `on_host` runs once for each
// (IP, MAC) pair, when it first answers.
ArpScanResult arp_scan(const ArpScanOptions& options,
                       const std::function<void(const ArpScanHost&)>& on_host);

}  // namespace duplex::link
