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

std::uint8_t transport_protocol(const inet::Ipv4Header& ip) noexcept { return ip.protocol; }
std::uint8_t transport_protocol(const inet::Ipv6Header& ip) noexcept {
  return ip.final_next_header;
}
// The quoted datagram's transport length on the wire, as its IP header says.
std::uint32_t transport_length(const inet::Ipv4Header& ip) noexcept {
  return ip.total_length > ip.header_length ? ip.total_length - ip.header_length : 0;
}
std::uint32_t transport_length(const inet::Ipv6Header& ip) noexcept {
  const std::uint32_t end = inet::Ipv6Header::kFixedLength + ip.payload_length;
  return end > ip.header_length ? end - ip.header_length : 0;
}

// The start of the quoted TCP or UDP header (an error quotes at least its first 8 bytes: the
// ports, and a TCP segment's sequence number), described by its own codec: the fields of the
// bytes quoted, its checksum verified only when the whole datagram was quoted.
template <typename Ip>
void describe_quoted_transport(const Ip& ip, std::span<const std::uint8_t> quoted,
                               std::uint32_t offset, const std::string& by,
                               std::vector<dissect::Header>& out) {
  if (ip.header_length == 0 || !ip.first_fragment() || quoted.size() <= ip.header_length) return;
  const auto bytes = quoted.subspan(ip.header_length);
  const inet::PseudoHeader pseudo{ip.source, ip.destination, transport_protocol(ip),
                                  transport_length(ip)};
  dissect::Header h;
  if (pseudo.protocol == inet::kProtocolUdp) {
    describe(transport::decode_udp(bytes, pseudo), bytes, offset + ip.header_length, h);
  } else if (pseudo.protocol == inet::kProtocolTcp) {
    describe(transport::decode_tcp(bytes, pseudo), bytes, offset + ip.header_length, h);
  } else {
    return;
  }
  h.protocol += " (quoted by " + by + ")";
  out.push_back(std::move(h));
}

// An ICMP or ICMPv6 error quotes the start of the packet it refers to: shown as headers of
// their own after the ICMP header (the quoted IP header, then the start of its TCP or UDP
// header), so that their addresses, protocol and ports read as in any other.
template <typename Icmp, typename Decode>
void describe_quoted(const Icmp& icmp, std::span<const std::uint8_t> message, std::uint32_t offset,
                     Decode decode, const std::string& by, std::vector<dissect::Header>& out) {
  if (icmp.quoted_offset == 0 || icmp.quoted_offset >= message.size()) return;
  const auto quoted = message.subspan(icmp.quoted_offset);
  const auto ip = decode(quoted);
  dissect::Header h;
  describe(ip, quoted, offset + icmp.quoted_offset, h);
  h.protocol += " (quoted by " + by + ")";
  out.push_back(std::move(h));
  describe_quoted_transport(ip, quoted, offset + icmp.quoted_offset, by, out);
}

// A websocket layer: the `index`th frame, or the payload before the first frame (the rest of
// one begun earlier), or payload at no known frame boundary.
void describe_websocket(const DecodedPacket& p, std::size_t index, bool carried,
                        std::span<const std::uint8_t> own, std::uint32_t offset,
                        dissect::Header& out) {
  if (carried || p.websocket_unknown) {
    out.protocol = "WebSocket";
    out.layer = dissect::Layer::application;
    out.offset = offset;
    out.length = static_cast<std::uint32_t>(own.size());
    const auto n = carried ? p.websocket_carried : p.tcp.payload_length;
    dissect::add(out.fields, carried ? "websocket.continued" : "websocket.unknown_data",
                 carried ? "Continued payload" : "Data", decimal(n) + " bytes", offset,
                 static_cast<std::uint32_t>(own.size()),
                 carried ? "the rest of a frame begun in an earlier segment"
                         : "at no known frame start (a gap, a retransmission or a frame "
                           "header split across segments came before)");
    return;
  }
  const auto& f = p.websocket[index];
  websocket::describe(f, own, offset, out);
  if (f.header_length == 0 && f.continues)
    dissect::add(out.fields, "websocket.header_split", "Frame header", "split", offset,
                 static_cast<std::uint32_t>(own.size()),
                 "the frame header goes on in the next segment (not decoded)");
  if (p.websocket_more && index + 1 == p.websocket_count)
    dissect::add(out.fields, "websocket.frames_not_shown", "More frames", "yes", offset, 0,
                 "this segment holds more frames than duplex shows (" +
                     decimal(DecodedPacket::kMaxFrames) + ")");
}

}  // namespace

std::vector<dissect::Header> describe_packet(const DecodedPacket& p,
                                             std::span<const std::uint8_t> bytes) {
  std::vector<dissect::Header> out;
  out.reserve(p.layer_count + 1);
  std::size_t frame = 0;  // the next websocket frame
  bool first_websocket = true;
  for (std::uint8_t i = 0; i < p.layer_count; ++i) {
    const LayerSpan& l = p.layers[i];
    const auto own = l.in(bytes);
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
        describe_quoted(p.icmp, own, l.offset, inet::decode_ipv4, "ICMP", out);
        continue;
      case Protocol::icmpv6:
        describe(p.icmpv6, own, l.offset, h);
        out.push_back(std::move(h));
        describe_quoted(p.icmpv6, own, l.offset, inet::decode_ipv6, "ICMPv6", out);
        continue;
      case Protocol::http:
        describe(p.http, own, l.offset, h);
        break;
      case Protocol::tls:
        describe(p.tls, own, l.offset, h);
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
      case Protocol::websocket: {
        const bool carried = first_websocket && p.websocket_carried != 0;
        first_websocket = false;
        describe_websocket(p, frame, carried, own, l.offset, h);
        if (!carried && !p.websocket_unknown) ++frame;
        break;
      }
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
