// Public. The IPv4 header (RFC 791) as `duplex capture` reads it, strictly and without heap
// allocation (the convention of base/dissect.h):
//
//   version(4) IHL(4) DSCP(6) ECN(2) total length(16) id(16) flags(3) fragment offset(13)
//   TTL(8) protocol(8) header checksum(16) source(32) destination(32) options(IHL*4 - 20)
//
// The header checksum is verified; options are kept as offsets into the captured bytes. A
// non-first fragment carries no transport header: the chain asks first_fragment() before it
// decodes one. All functions are safe to call from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "duplex/base/dissect.h"
#include "duplex/inet/address.h"
#include "duplex/inet/checksum.h"

namespace duplex::inet {

// The IANA protocol numbers (IPv4 protocol, IPv6 next header) the chain knows by name.
inline constexpr std::uint8_t kProtocolIcmp = 1;
inline constexpr std::uint8_t kProtocolTcp = 6;
inline constexpr std::uint8_t kProtocolUdp = 17;
inline constexpr std::uint8_t kProtocolIcmpv6 = 58;

// "ICMP", "TCP", "UDP", "ICMPv6", "GRE", "ESP"... (tcpdump's names); "" when unknown.
std::string_view protocol_name(std::uint8_t protocol) noexcept;

// One IPv4 option: its type, its length (1 for EOL and NOP) and where it starts in the header.
struct Ipv4Option {
  std::uint8_t type = 0;
  std::uint8_t length = 0;
  std::uint8_t at = 0;
};

struct Ipv4Header {
  static constexpr std::uint32_t kMinLength = 20;
  static constexpr std::size_t kMaxOptions = 40;  // 40 option bytes, one byte each at least
  std::uint8_t version = 0;
  std::uint8_t ihl = 0;  // in 32-bit words
  std::uint8_t dscp = 0;
  std::uint8_t ecn = 0;
  std::uint16_t total_length = 0;
  std::uint16_t id = 0;
  bool reserved_flag = false;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  // in 8-byte units, as on the wire
  std::uint8_t ttl = 0;
  std::uint8_t protocol = 0;
  std::uint16_t checksum = 0;
  ChecksumStatus checksum_status = ChecksumStatus::unverified;
  Address source;
  Address destination;
  std::array<Ipv4Option, kMaxOptions> options{};
  std::uint8_t option_count = 0;

  std::uint32_t header_length = 0;   // IHL * 4 once the header is whole; 0 before
  std::uint32_t payload_length = 0;  // captured payload bytes, cut at the total length
  // The total length runs past the captured bytes (a short snaplen): the payload is cut.
  bool payload_truncated = false;
  dissect::Problem problem;

  bool is_fragment() const noexcept { return more_fragments || fragment_offset != 0; }
  // Only the first fragment (offset 0) carries the transport header.
  bool first_fragment() const noexcept { return fragment_offset == 0; }
  std::uint32_t fragment_offset_bytes() const noexcept { return fragment_offset * 8u; }
};

Ipv4Header decode_ipv4(std::span<const std::uint8_t> bytes) noexcept;
// "IPv4" with ip.version, ip.hdr_len, ip.dsfield (ip.dsfield.dscp, .ecn), ip.len, ip.id,
// ip.flags (ip.flags.rb, .df, .mf), ip.frag_offset, ip.ttl, ip.proto, ip.checksum,
// ip.checksum.status, ip.src, ip.dst and one ip.options.<name> per option.
void describe(const Ipv4Header& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// The destination that a TCP or UDP pseudo-header holds (RFC 9293 3.1, RFC 1122 4.1.3.6):
// with a loose or strict source route that has hops to go, the route's last address, where
// the datagram is finally going (as Linux sums it and Wireshark checks it); else the
// header's destination. `bytes` as given to decode_ipv4.
Address final_destination(const Ipv4Header& h, std::span<const std::uint8_t> bytes) noexcept;
// As tcpdump -v: "tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto ICMP (1), length 84"
// (with ", options (RR 1.2.3.4,RA,NOP)" when there are options).
std::string summary(const Ipv4Header& h, std::span<const std::uint8_t> bytes);

}  // namespace duplex::inet
