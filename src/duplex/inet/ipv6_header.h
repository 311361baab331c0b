// Public. The IPv6 header (RFC 8200) and its extension header chain as `duplex capture` reads
// them, strictly and without heap allocation (the convention of base/dissect.h):
//
//   version(4) traffic class(8) flow label(20) payload length(16) next header(8)
//   hop limit(8) source(128) destination(128), then extension headers, each
//   next header(8) length(8) ...: hop-by-hop (0), routing (43), fragment (44, 8 bytes),
//   destination options (60), AH (51, length in 4-byte units), mobility (135).
//
// The chain is walked to its end (the final next header and where its payload starts), at
// most kMaxExtensions headers long: a crafted packet cannot make a long walk. A non-first
// fragment's payload is no header at all: the walk stops at its fragment header.
// All functions are safe to call from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "duplex/base/dissect.h"
#include "duplex/inet/address.h"

namespace duplex::inet {

// One extension header of the chain: its own protocol number, the next header it names,
// where it starts from the IPv6 header's first byte, and its length in bytes. The last one
// may be cut by the snap length: `captured` of its bytes were (then the header's problem says
// truncated, and describe() shows the fields that were captured).
struct Ipv6Extension {
  std::uint8_t type = 0;
  std::uint8_t next_header = 0;
  std::uint32_t at = 0;
  std::uint32_t length = 0;
  std::uint32_t captured = 0;
};

struct Ipv6Header {
  static constexpr std::uint32_t kFixedLength = 40;
  static constexpr std::size_t kMaxExtensions = 8;
  std::uint8_t version = 0;
  std::uint8_t traffic_class = 0;
  std::uint8_t dscp() const noexcept { return traffic_class >> 2; }
  std::uint8_t ecn() const noexcept { return traffic_class & 3; }
  std::uint32_t flow_label = 0;
  std::uint16_t payload_length = 0;  // as on the wire (0: a jumbogram or a TSO capture)
  std::uint8_t next_header = 0;      // of the fixed header
  std::uint8_t hop_limit = 0;
  Address source;
  Address destination;
  std::array<Ipv6Extension, kMaxExtensions> extensions{};
  std::uint8_t extension_count = 0;

  // From the fragment header, if there is one.
  bool has_fragment_header = false;
  std::uint16_t fragment_offset = 0;  // in 8-byte units
  bool more_fragments = false;
  std::uint32_t fragment_id = 0;

  std::uint8_t final_next_header = 0;  // the protocol after the chain (TCP, UDP, ICMPv6...)
  std::uint32_t header_length = 0;     // 40 plus the chain: where the final payload starts
  std::uint32_t payload_bytes = 0;     // captured bytes after the chain, cut at the payload length
  bool payload_truncated = false;      // the payload length runs past the capture
  dissect::Problem problem;

  bool is_fragment() const noexcept { return has_fragment_header; }
  bool first_fragment() const noexcept { return fragment_offset == 0; }
};

Ipv6Header decode_ipv6(std::span<const std::uint8_t> bytes) noexcept;
// The IPv6 address in the 16 bytes at `p` (the caller checks the bound), as ICMPv6 and NDP
// carry them too.
Address ipv6_address_at(const std::uint8_t* p) noexcept;
// "IPv6" with ipv6.version, ipv6.tclass (.dscp, .ecn), ipv6.flow, ipv6.plen, ipv6.nxt,
// ipv6.hlim, ipv6.src, ipv6.dst, then one field per extension header: ipv6.hopopts,
// ipv6.routing, ipv6.fraghdr, ipv6.dstopts (with their nxt, len, options ipv6.opt, routing
// addresses, ipv6.fraghdr.offset, .more, .ident).
void describe(const Ipv6Header& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// The destination that a TCP, UDP or ICMPv6 pseudo-header holds (RFC 8200 8.1): with a
// routing header that has segments left, the final one (a type 0 route's last address, a
// type 2 header's home address, an SRH's segment list[0]); else the header's destination.
// `bytes` as given to decode_ipv6.
Address final_destination(const Ipv6Header& h, std::span<const std::uint8_t> bytes) noexcept;
// As tcpdump -v: "class 0xb9, flowlabel 0x12345, hlim 64, next-header UDP (17) payload
// length: 84" (class and flow label only when not zero).
std::string summary(const Ipv6Header& h);

}  // namespace duplex::inet
