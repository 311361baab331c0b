// Public. ARP ping in the manner of iputils arping: broadcast ARP requests for one IPv4
// address on one interface and report every reply, with the answering MAC and the round
// trip; duplicate address detection (RFC 5227 probes); gratuitous announcements.
//
// Runs on the calling thread until done. FIXME: its own poll() loop until the reactor's
// EventLoop lands; then the requests become timers on the loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "duplex/inet/address.h"
#include "duplex/link/interface.h"
#include "duplex/link/mac_address.h"

namespace duplex::link {

enum class ArpPingMode : std::uint8_t {
  request,             // who has target? (sender IP: ours on that link)
  dad,                 // RFC 5227 probe: sender IP 0.0.0.0; any answer is a duplicate
  gratuitous_request,  // announce target as ours, in a request
  gratuitous_reply,    // announce target as ours, in an unsolicited reply
};

struct ArpPingOptions {
  inet::Address target;
  Interface interface;
  // The sender IP of requests; by default the interface's address on target's subnet.
  std::optional<inet::Address> source;
  ArpPingMode mode = ArpPingMode::request;
  // Stop after this many requests (0: no limit). With a deadline too, stop after this many
  // replies instead, or at the deadline, as arping does.
  unsigned count = 0;
  std::optional<std::chrono::nanoseconds> deadline;
  std::chrono::nanoseconds interval = std::chrono::seconds(1);
  // Asked between waits; returning true ends the ping early (Ctrl-C).
  std::function<bool()> stop;
};

struct ArpPingReply {
  unsigned seq = 0;  // the request it answers (the latest sent), from 1
  inet::Address ip;
  MacAddress mac;          // ARP sender hardware address
  MacAddress ethernet;     // Ethernet source (differs behind a proxy or in a forgery)
  bool broadcast = false;  // sent to ff:ff:ff:ff:ff:ff rather than to us
  bool probe = false;      // DAD: not a reply but another host's probe for the same IP
  std::chrono::nanoseconds rtt{};
};

struct ArpPingSummary {
  inet::Address source;
  unsigned sent = 0;
  unsigned received = 0;
  std::vector<MacAddress> macs;  // each distinct MAC that answered, in order of first reply
  bool interrupted = false;
};

// Throws duplex::Error when the socket cannot be opened (CAP_NET_RAW) or the interface has
// no IPv4 address to ask from (request mode). `on_reply` runs for every matching reply.
ArpPingSummary arp_ping(const ArpPingOptions& options,
                        const std::function<void(const ArpPingReply&)>& on_reply);

}  // namespace duplex::link
