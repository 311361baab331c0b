// describe_packet(): the layer tree, each header described by its own codec.
#include <string>

#include "duplex/apps/capture/chain.h"
#include "duplex/base/captured_fields.h"

namespace duplex::capture {
namespace {

using dissect::decimal;

std::string_view family_name(std::uint32_t family) noexcept {
  if (family == 2) return "IP";
  if (family == 10 || family == 24 || family == 28 || family == 30) return "IPv6";
  return "";
}

void describe_loopback(const DecodedPacket& p, std::span<const std::uint8_t> bytes,
                       dissect::Header& out) {
  out.protocol = std::string(protocol_name(Protocol::loopback));
  out.layer = dissect::Layer::link;
  out.offset = 0;
  out.length = bytes.size() < 4 ? static_cast<std::uint32_t>(bytes.size()) : 4;
  dissect::CapturedFields field(out, 0, bytes.size());
  field("null.family", "Family", decimal(p.loopback_family), 0, 4,
        std::string(family_name(p.loopback_family)));
}

// An ICMP error quotes the start of the datagram it refers to: shown as its own header, after
// the ICMP header, so that its addresses and protocol read as in any other IPv4 header.
void describe_quoted(const inet::IcmpHeader& icmp, std::span<const std::uint8_t> message,
                     std::uint32_t offset, std::vector<dissect::Header>& out) {
  if (icmp.quoted_offset == 0 || icmp.quoted_offset >= message.size()) return;
  const auto quoted = message.subspan(icmp.quoted_offset);
  const auto ip = inet::decode_ipv4(quoted);
  dissect::Header h;
  describe(ip, quoted, offset + icmp.quoted_offset, h);
  h.protocol = "IPv4 (quoted by ICMP)";
  out.push_back(std::move(h));
}

// The same for ICMPv6, whose errors quote as much of the offending IPv6 packet as fits.
void describe_quoted_ipv6(const inet::Icmpv6Header& icmp, std::span<const std::uint8_t> message,
                          std::uint32_t offset, std::vector<dissect::Header>& out) {
  if (icmp.quoted_offset == 0 || icmp.quoted_offset >= message.size()) return;
  const auto quoted = message.subspan(icmp.quoted_offset);
  const auto ip = inet::decode_ipv6(quoted);
  dissect::Header h;
  describe(ip, quoted, offset + icmp.quoted_offset, h);
  h.protocol = "IPv6 (quoted by ICMPv6)";
  out.push_back(std::move(h));
}

}  // namespace

std::vector<dissect::Header> describe_packet(const DecodedPacket& p,
                                             std::span<const std::uint8_t> bytes) {
  std::vector<dissect::Header> out;
  out.reserve(p.layer_count + 1);
  for (std::uint8_t i = 0; i < p.layer_count; ++i) {
    const LayerSpan& l = p.layers[i];
    if (l.offset > bytes.size()) break;
    const auto own =
        bytes.subspan(l.offset, std::min<std::size_t>(l.available, bytes.size() - l.offset));
    dissect::Header h;
    switch (l.protocol) {
      case Protocol::loopback:
        describe_loopback(p, own, h);
        break;
      case Protocol::ethernet:
        describe(p.ethernet, own, l.offset, h);
        break;
      case Protocol::linux_sll:
      case Protocol::linux_sll2:
        describe(p.cooked, own, l.offset, h);
        break;
      case Protocol::arp:
        describe(p.arp, own, l.offset, h);
        break;
      case Protocol::ipv4:
        describe(p.ipv4, own, l.offset, h);
        break;
      case Protocol::ipv6:
        describe(p.ipv6, own, l.offset, h);
        break;
      case Protocol::icmp:
        describe(p.icmp, own, l.offset, h);
        out.push_back(std::move(h));
        describe_quoted(p.icmp, own, l.offset, out);
        continue;
      case Protocol::icmpv6:
        describe(p.icmpv6, own, l.offset, h);
        out.push_back(std::move(h));
        describe_quoted_ipv6(p.icmpv6, own, l.offset, out);
        continue;
      case Protocol::http:
        describe(p.http, own, l.offset, h);
        break;
      case Protocol::tcp:
        describe(p.tcp, own, l.offset, h);
        break;
      case Protocol::udp:
        describe(p.udp, own, l.offset, h);
        break;
      case Protocol::dns:
        describe(p.dns, own, l.offset, h);
        break;
      default:
        continue;
    }
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<dissect::Header> describe_packet(int link_type, std::span<const std::uint8_t> bytes,
                                             std::uint32_t wire_length) {
  return describe_packet(decode_packet(link_type, bytes, wire_length), bytes);
}

}  // namespace duplex::capture
