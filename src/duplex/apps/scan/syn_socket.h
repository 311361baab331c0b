// Public. The raw sockets of a SYN scan (half-open, as nmap -sS): a SYN goes out from one
// source port, a SYN-ACK back means open (the kernel, which knows no such connection, answers
// it with a reset), a reset means closed, ICMP (or ICMPv6) unreachable filtered. IPv4 and
// IPv6: a raw TCP and a raw ICMP socket for each family that the scan's targets use.
//
// The sequence number is a cookie of the destination and a per-socket secret, so an answer
// is matched to its probe by its acknowledgment number without any state, and a stray
// segment to our source port is ignored. Needs CAP_NET_RAW.
//
// Threading: use a SynSocket from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "duplex/apps/scan/scan_result.h"
#include "duplex/inet/address.h"
#include "duplex/transport/socket.h"

namespace duplex::scan {

// What a raw socket heard about one probe.
struct SynAnswer {
  inet::Address host;
  std::uint16_t port = 0;
  PortOutcome outcome;
};

// The stateless half: the cookie, and what a packet read from a raw socket says about which
// probe. A value; safe to share between threads.
class SynMatcher {
 public:
  SynMatcher(std::uint16_t source_port, std::uint64_t secret) noexcept
      : source_port_(source_port), secret_(secret) {}

  std::uint16_t source_port() const noexcept { return source_port_; }
  // The sequence number of our SYN to host:port.
  std::uint32_t cookie(const inet::Address& host, std::uint16_t port) const noexcept;
  // An IPv4 packet from the raw TCP socket: a SYN-ACK (open) or a reset (closed) that
  // acknowledges one of our SYNs; nullopt for anything else.
  std::optional<SynAnswer> from_tcp(std::span<const std::uint8_t> packet) const noexcept;
  // The same for IPv6, whose raw sockets give the segment without the IP header: `source`
  // is the address it came from (recvfrom's).
  std::optional<SynAnswer> from_tcp6(const inet::Address& source,
                                     std::span<const std::uint8_t> segment) const noexcept;
  // An IPv4 packet from the raw ICMP socket: a destination unreachable that quotes one of
  // our SYNs (filtered); nullopt for anything else.
  std::optional<SynAnswer> from_icmp(std::span<const std::uint8_t> packet) const noexcept;
  // An ICMPv6 message (no IP header) from the raw ICMPv6 socket: a destination unreachable
  // that quotes one of our SYNs.
  std::optional<SynAnswer> from_icmp6(std::span<const std::uint8_t> message) const noexcept;

 private:
  // A SYN-ACK or reset from `host` acknowledging our cookie.
  std::optional<SynAnswer> answer(const inet::Address& host,
                                  std::span<const std::uint8_t> segment) const noexcept;
  // The first 8 bytes of our SYN to `host`, quoted by an unreachable with `reason`.
  std::optional<SynAnswer> quoted(const inet::Address& host, std::span<const std::uint8_t> head,
                                  Reason reason) const noexcept;

  std::uint16_t source_port_;
  std::uint64_t secret_;
};

class SynSocket {
 public:
  // The raw sockets: what each one reads.
  enum class Kind { tcp4, icmp4, tcp6, icmp6 };

  // Opens the raw sockets of the families asked for. Throws duplex::Error naming
  // CAP_NET_RAW when they cannot be made.
  SynSocket(bool ipv4, bool ipv6);

  // The descriptor of each kind (-1 for a family not asked for).
  int fd(Kind kind) const noexcept { return sockets_[static_cast<int>(kind)].fd(); }
  std::uint16_t source_port() const noexcept { return matcher_.source_port(); }

  // Sends one SYN from `source` (this machine's address towards `host`). 0 or the errno.
  int send_syn(const inet::Address& source, const inet::Address& host, std::uint16_t port);

  // Reads what the socket of `kind` holds, up to `max` packets, calling `on_answer` for each
  // that answers one of our probes.
  void read(Kind kind, const std::function<void(const SynAnswer&)>& on_answer, int max = 64);

  // The address this machine sends from towards `host` (the routing table's choice).
  static std::optional<inet::Address> source_for(const inet::Address& host);

 private:
  Socket sockets_[4];  // by Kind
  SynMatcher matcher_;
};

}  // namespace duplex::scan
