// Public. Neighbor Discovery (RFC 4861) as `duplex ndp` speaks it: the solicitations it sends,
// built whole (an IPv6 header with hop limit 255, then the ICMPv6 message with its checksum),
// and the advertisements it reads, checked as RFC 4861 6.1 and 7.1 tell a receiver to check
// them before it believes anything in them. Decoding goes through inet/icmpv6.h; this adds
// the checks and the typed options. Safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "duplex/inet/address.h"
#include "duplex/inet/icmpv6.h"
#include "duplex/inet/ipv6_header.h"

namespace duplex::inet {

// The all-nodes and all-routers link-local groups.
Address all_nodes() noexcept;    // ff02::1
Address all_routers() noexcept;  // ff02::2
// The solicited-node multicast group of an IPv6 address (RFC 4291 2.7.1): ff02::1:ffXX:XXXX
// with its low 24 bits.
Address solicited_node(const Address& target) noexcept;

// A neighbour solicitation for `target` (unicast IPv6) from `source` to target's
// solicited-node group, as a whole IPv6 packet. `link_address` (the sender's MAC) becomes a
// source link-layer address option; RFC 4861 7.2.2 forbids one when `source` is :: (DAD), so
// it must then be empty. Throws duplex::ParseError on an IPv4 or multicast target, an IPv4
// source, or a link address with an unspecified source.
std::vector<std::uint8_t> encode_neighbor_solicitation(const Address& source, const Address& target,
                                                       std::span<const std::uint8_t> link_address);
// A router solicitation from `source` to ff02::2, with a source link-layer address option
// unless `source` is :: (RFC 4861 6.3.7). The same errors.
std::vector<std::uint8_t> encode_router_solicitation(const Address& source,
                                                     std::span<const std::uint8_t> link_address);

// An NDP message that passed the receiver's checks: the IPv6 header, the ICMPv6 message and
// its bytes (inside the packet given to decode_ndp).
struct NdpMessage {
  Ipv6Header ip;
  Icmpv6Header icmp;
  std::span<const std::uint8_t> bytes;
};

// Decodes an IPv6 packet (no link-layer header) and keeps it only if it is a router
// solicitation or advertisement or a neighbour solicitation or advertisement that a host
// must accept (RFC 4861 6.1.2, 7.1.1, 7.1.2): no extension headers, hop limit 255, a good
// checksum, code 0, the fixed part whole, every option of non-zero length and inside the
// message, a neighbour message's target not multicast, a solicitation from :: sent to a
// solicited-node group without a source link-layer address (a router solicitation from ::
// without one too), a solicited advertisement not sent to a multicast group, a router
// advertisement from a link-local source. Else nullopt.
std::optional<NdpMessage> decode_ndp(std::span<const std::uint8_t> packet) noexcept;

// The data of the first option of `type` (after its type and length bytes), or an empty span.
std::span<const std::uint8_t> ndp_option(const NdpMessage& m, std::uint8_t type) noexcept;

// A prefix information option (RFC 4861 4.6.2).
struct NdpPrefix {
  Address prefix;
  std::uint8_t length = 0;
  bool on_link = false;                  // L
  bool autonomous = false;               // A
  bool router_address = false;           // R (RFC 6275)
  std::uint32_t valid_lifetime = 0;      // seconds; 0xffffffff is infinity
  std::uint32_t preferred_lifetime = 0;  // seconds
};
// Every prefix information option of a router advertisement, in order.
std::vector<NdpPrefix> ndp_prefixes(const NdpMessage& m);
// The MTU option's value, if there is one.
std::optional<std::uint32_t> ndp_mtu(const NdpMessage& m) noexcept;
// Every RDNSS option's servers (RFC 8106), in order.
std::vector<Address> ndp_dns_servers(const NdpMessage& m);

}  // namespace duplex::inet
