#include "duplex/inet/ndp.h"

#include <array>

#include "duplex/base/error.h"
#include "duplex/base/wire.h"

namespace duplex::inet {
namespace {

constexpr std::uint8_t kIcmpv6Protocol = 58;
constexpr std::uint8_t kHopLimit = 255;  // RFC 4861: a receiver drops anything less

Address group(std::uint8_t last) noexcept {
  std::array<std::uint8_t, 16> b{0xff, 0x02};
  b[15] = last;
  return Address::v6(b);
}

void put_address(std::vector<std::uint8_t>& out, std::size_t at, const Address& a) {
  for (std::size_t i = 0; i < 16; ++i) out[at + i] = a.data()[i];
}

void check_source(const Address& source, std::span<const std::uint8_t> link_address) {
  if (!source.is_v6())
    throw ParseError(source.to_string() + " is IPv4: neighbour discovery is IPv6's");
  if (source.is_multicast())
    throw ParseError(source.to_string() + " is multicast: it cannot be a source address");
  if (source.is_unspecified() && !link_address.empty())
    throw ParseError("a solicitation from :: carries no source link-layer address (RFC 4861)");
  if (link_address.size() > 14) throw ParseError("a link-layer address longer than 14 bytes");
}

// The IPv6 header, then `fixed` bytes of ICMPv6 message of `type` (its first four written,
// the rest zero), then the source link-layer address option if there is an address.
// Returns the packet; the caller fills the fixed part and calls finish().
std::vector<std::uint8_t> start(const Address& source, const Address& destination,
                                std::uint8_t type, std::size_t fixed,
                                std::span<const std::uint8_t> link_address) {
  const std::size_t option = link_address.empty() ? 0 : (2 + link_address.size() + 7) / 8 * 8;
  const std::size_t length = fixed + option;
  std::vector<std::uint8_t> out(Ipv6Header::kFixedLength + length, 0);
  out[0] = 0x60;
  out[4] = static_cast<std::uint8_t>(length >> 8);
  out[5] = static_cast<std::uint8_t>(length);
  out[6] = kIcmpv6Protocol;
  out[7] = kHopLimit;
  put_address(out, 8, source);
  put_address(out, 24, destination);
  out[40] = type;
  if (option != 0) {
    const std::size_t at = Ipv6Header::kFixedLength + fixed;
    out[at] = kNdpSourceLinkAddress;
    out[at + 1] = static_cast<std::uint8_t>(option / 8);
    for (std::size_t i = 0; i < link_address.size(); ++i) out[at + 2 + i] = link_address[i];
  }
  return out;
}

void finish(std::vector<std::uint8_t>& out, const Address& source, const Address& destination) {
  const auto message = std::span(out).subspan(Ipv6Header::kFixedLength);
  const auto length = static_cast<std::uint32_t>(message.size());
  const std::uint16_t sum = checksum_fold(
      checksum_add(pseudo_header_sum(source, destination, kIcmpv6Protocol, length), message));
  out[42] = static_cast<std::uint8_t>(sum >> 8);
  out[43] = static_cast<std::uint8_t>(sum);
}

bool has_option(const Icmpv6Header& h, std::uint8_t type) noexcept {
  for (std::uint8_t i = 0; i < h.option_count; ++i)
    if (h.options[i].type == type) return true;
  return false;
}

bool is_solicited_node(const Address& a) noexcept {
  const auto expected = solicited_node(a);  // keeps a's low 24 bits: equal when a is one
  return a == expected;
}

}  // namespace

Address all_nodes() noexcept { return group(1); }

Address all_routers() noexcept { return group(2); }

Address solicited_node(const Address& target) noexcept {
  std::array<std::uint8_t, 16> b{0xff, 0x02};
  b[11] = 0x01;
  b[12] = 0xff;
  for (std::size_t i = 13; i < 16; ++i) b[i] = target.data()[i];
  return Address::v6(b);
}

std::vector<std::uint8_t> encode_neighbor_solicitation(const Address& source, const Address& target,
                                                       std::span<const std::uint8_t> link_address) {
  check_source(source, link_address);
  if (!target.is_v6())
    throw ParseError(target.to_string() + " is IPv4: neighbour discovery is IPv6's (use ARP)");
  if (target.is_multicast() || target.is_unspecified())
    throw ParseError(target.to_string() + " is not a unicast address: no neighbour holds it");
  const Address destination = solicited_node(target);
  auto out = start(source, destination, kIcmpv6NeighborSolicitation, 24, link_address);
  put_address(out, Ipv6Header::kFixedLength + 8, target);
  finish(out, source, destination);
  return out;
}

std::vector<std::uint8_t> encode_router_solicitation(const Address& source,
                                                     std::span<const std::uint8_t> link_address) {
  check_source(source, link_address);
  auto out = start(source, all_routers(), kIcmpv6RouterSolicitation, 8, link_address);
  finish(out, source, all_routers());
  return out;
}

std::optional<NdpMessage> decode_ndp(std::span<const std::uint8_t> packet) noexcept {
  NdpMessage m;
  m.ip = decode_ipv6(packet);
  if (m.ip.problem || m.ip.version != 6 || m.ip.extension_count != 0) return std::nullopt;
  if (m.ip.next_header != kIcmpv6Protocol || m.ip.hop_limit != kHopLimit) return std::nullopt;
  if (m.ip.payload_length > packet.size() - Ipv6Header::kFixedLength) return std::nullopt;
  m.bytes = packet.subspan(Ipv6Header::kFixedLength, m.ip.payload_length);
  m.icmp = decode_icmpv6(
      m.bytes, PseudoHeader{m.ip.source, m.ip.destination, kIcmpv6Protocol, m.ip.payload_length});
  const Icmpv6Header& h = m.icmp;
  if (h.problem || h.checksum_status != ChecksumStatus::good || h.code != 0) return std::nullopt;
  if (h.type < kIcmpv6RouterSolicitation || h.type > kIcmpv6NeighborAdvertisement ||
      h.header_length == 0)
    return std::nullopt;
  const bool from_nobody = m.ip.source.is_unspecified();
  const bool source_option = has_option(h, kNdpSourceLinkAddress);
  switch (h.type) {
    case kIcmpv6RouterSolicitation:
      if (from_nobody && source_option) return std::nullopt;
      break;
    case kIcmpv6RouterAdvertisement:
      if (!m.ip.source.is_link_local()) return std::nullopt;
      break;
    case kIcmpv6NeighborSolicitation:
      if (h.target.is_multicast()) return std::nullopt;
      if (from_nobody && (!is_solicited_node(m.ip.destination) || source_option))
        return std::nullopt;
      break;
    default:  // neighbour advertisement
      if (h.target.is_multicast()) return std::nullopt;
      if (h.solicited && m.ip.destination.is_multicast()) return std::nullopt;
      if (from_nobody) return std::nullopt;
  }
  return m;
}

std::span<const std::uint8_t> ndp_option(const NdpMessage& m, std::uint8_t type) noexcept {
  for (std::uint8_t i = 0; i < m.icmp.option_count; ++i) {
    const NdpOption& o = m.icmp.options[i];
    if (o.type == type) return m.bytes.subspan(o.at + 2, o.length * 8u - 2);
  }
  return {};
}

std::vector<NdpPrefix> ndp_prefixes(const NdpMessage& m) {
  std::vector<NdpPrefix> out;
  for (std::uint8_t i = 0; i < m.icmp.option_count; ++i) {
    const NdpOption& o = m.icmp.options[i];
    if (o.type != kNdpPrefixInformation || o.length != 4) continue;
    const std::uint8_t* p = m.bytes.data() + o.at;
    NdpPrefix x;
    x.length = p[2];
    x.on_link = (p[3] & 0x80) != 0;
    x.autonomous = (p[3] & 0x40) != 0;
    x.router_address = (p[3] & 0x20) != 0;
    x.valid_lifetime = wire::be32(p + 4);
    x.preferred_lifetime = wire::be32(p + 8);
    x.prefix = ipv6_address_at(p + 16);
    out.push_back(x);
  }
  return out;
}

std::optional<std::uint32_t> ndp_mtu(const NdpMessage& m) noexcept {
  for (std::uint8_t i = 0; i < m.icmp.option_count; ++i) {
    const NdpOption& o = m.icmp.options[i];
    if (o.type == kNdpMtu && o.length == 1) return wire::be32(m.bytes.data() + o.at + 4);
  }
  return std::nullopt;
}

std::vector<Address> ndp_dns_servers(const NdpMessage& m) {
  std::vector<Address> out;
  for (std::uint8_t i = 0; i < m.icmp.option_count; ++i) {
    const NdpOption& o = m.icmp.options[i];
    if (o.type != kNdpRdnss || o.length < 3 || o.length % 2 == 0) continue;
    for (std::uint32_t a = 8; a + 16 <= o.length * 8u; a += 16)
      out.push_back(ipv6_address_at(m.bytes.data() + o.at + a));
  }
  return out;
}

}  // namespace duplex::inet
