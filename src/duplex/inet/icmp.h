// Public. ICMP for IPv4 (RFC 792, 1191) as `duplex capture` reads it, strictly and without
// heap allocation (the convention of base/dissect.h):
//
//   type(8) code(8) checksum(16) rest of header(32) [data]
//   echo, timestamp, information, address mask: identifier(16) sequence(16) [...]
//   unreachable, time exceeded, parameter problem, redirect, source quench: the rest of the
//   header (MTU, pointer, gateway), then the offending IP header and 8 bytes of its payload.
//
// An error message exposes where its quoted IP header starts, so that the chain can decode it
// (decode_ipv4) and the summary names the lost datagram as tcpdump does.
// All functions are safe to call from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "duplex/base/dissect.h"
#include "duplex/inet/address.h"
#include "duplex/inet/checksum.h"

namespace duplex::inet {

struct IcmpHeader {
  static constexpr std::uint32_t kLength = 8;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint16_t checksum = 0;
  ChecksumStatus checksum_status = ChecksumStatus::unverified;
  std::uint16_t id = 0;        // echo, timestamp, information, address mask
  std::uint16_t sequence = 0;  // the same
  std::uint16_t mtu = 0;       // unreachable, fragmentation needed (RFC 1191)
  std::uint8_t pointer = 0;    // parameter problem
  Address gateway;             // redirect
  std::uint32_t originate = 0, receive = 0, transmit = 0;  // timestamp (ms since midnight UT)
  std::uint32_t address_mask = 0;                          // address mask reply

  std::uint32_t header_length = 0;  // 8; 20 for a timestamp, 12 for an address mask
  // Where the quoted IP header of an error message starts (8); 0 for other messages or when
  // none was captured.
  std::uint32_t quoted_offset = 0;
  dissect::Problem problem;

  // Destination unreachable, source quench, redirect, time exceeded, parameter problem.
  bool is_error() const noexcept;
};

// `bytes` is the ICMP message as captured; `length` its length on the wire (the IP payload
// length), so that a message cut by the snaplen has its checksum "unverified"; 0 means
// `bytes` is the whole message.
IcmpHeader decode_icmp(std::span<const std::uint8_t> bytes, std::uint32_t length = 0) noexcept;
// "ICMP" with icmp.type, icmp.code (their meanings), icmp.checksum, icmp.checksum.status and
// by type icmp.ident, icmp.seq, icmp.mtu, icmp.unused, icmp.redir_gw, icmp.pointer,
// icmp.originate_timestamp, icmp.receive_timestamp, icmp.transmit_timestamp, icmp.address_mask.
void describe(const IcmpHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As tcpdump: "echo request, id 1, seq 2, length 64", "10.0.0.2 udp port 9 unreachable,
// length 38", "time exceeded in-transit, length 36"; `bytes` as given to decode_icmp (the
// quoted datagram is read from it), `length` the message's length on the wire.
std::string summary(const IcmpHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t length);
// "echo request", "destination unreachable"...; "" when unknown.
std::string_view icmp_type_name(std::uint8_t type) noexcept;
// "port unreachable", "fragmentation needed"...; "" when the type has no such code.
std::string_view icmp_code_name(std::uint8_t type, std::uint8_t code) noexcept;

}  // namespace duplex::inet
