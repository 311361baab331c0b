#include "duplex/apps/capture/chain.h"

#include <algorithm>
#include <cstring>

#include "duplex/base/wire.h"

namespace duplex::capture {
namespace {

using dissect::Problem;

// The address families a BSD loopback header names: AF_INET everywhere; AF_INET6 is 10 on
// Linux, 24 on the BSDs, 28 on FreeBSD, 30 on macOS (tcpdump accepts each).
constexpr std::uint32_t kFamilyInet = 2;
bool is_inet6_family(std::uint32_t family) noexcept {
  return family == 10 || family == 24 || family == 28 || family == 30;
}

constexpr std::string_view kNames[kProtocolCount] = {"Null/Loopback",
                                                     "Ethernet II",
                                                     "Linux cooked capture v1",
                                                     "Linux cooked capture v2",
                                                     "ARP",
                                                     "IPv4",
                                                     "IPv6",
                                                     "ICMP",
                                                     "ICMPv6",
                                                     "TCP",
                                                     "UDP",
                                                     "DNS",
                                                     "HTTP",
                                                     "TLS",
                                                     "WebSocket"};

// One walk over one packet: each step decodes a header, records it and goes on with the
// header its payload holds, until a header it does not know, a problem, or the end.
class Walk {
 public:
  Walk(DecodedPacket& p, std::span<const std::uint8_t> bytes) noexcept : p_(p), bytes_(bytes) {}

  void link(int link_type) noexcept {
    switch (link_type) {
      case kLinkEthernet:
        return ethernet();
      case kLinkLinuxSll:
      case kLinkLinuxSll2:
        return cooked(link_type == kLinkLinuxSll ? Protocol::linux_sll : Protocol::linux_sll2);
      case kLinkNull:
      case kLinkLoop:
        return loopback(link_type == kLinkLoop);
      case kLinkRaw:
      case kLinkRawFile:
        return raw_ip(0);
      case kLinkIpv4:
        return ipv4(0);
      case kLinkIpv6:
        return ipv6(0);
      default:
        p_.unsupported_link = true;
    }
  }

 private:
  std::span<const std::uint8_t> from(std::uint32_t offset) const noexcept {
    return offset <= bytes_.size() ? bytes_.subspan(offset) : std::span<const std::uint8_t>{};
  }

  // Records a header; false when the packet has no room for more layers.
  bool push(Protocol protocol, std::uint32_t offset, std::uint32_t available) noexcept {
    if (p_.layer_count == DecodedPacket::kMaxLayers) return false;
    p_.layers[p_.layer_count++] = {protocol, offset, available};
    return true;
  }

  // Keeps the problem of the header just recorded; true when there was one (the walk stops).
  bool failed(Protocol protocol, const Problem& problem) noexcept {
    if (!problem) return false;
    p_.problem = problem;
    p_.problem_in = protocol;
    return true;
  }

  void ethernet() noexcept {
    p_.ethernet = link::decode_ethernet(bytes_);
    const auto& h = p_.ethernet;
    push(Protocol::ethernet, 0, static_cast<std::uint32_t>(bytes_.size()));
    if (failed(Protocol::ethernet, h.problem) || h.is_8023_length()) return;
    network(h.ethertype, h.header_length);
  }

  void cooked(Protocol protocol) noexcept {
    p_.cooked =
        protocol == Protocol::linux_sll ? link::decode_sll(bytes_) : link::decode_sll2(bytes_);
    push(protocol, 0, static_cast<std::uint32_t>(bytes_.size()));
    if (failed(protocol, p_.cooked.problem)) return;
    network(p_.cooked.ethertype, p_.cooked.header_length);
  }

  void loopback(bool network_order) noexcept {
    push(Protocol::loopback, 0, static_cast<std::uint32_t>(bytes_.size()));
    if (bytes_.size() < 4) {
      failed(Protocol::loopback, {Problem::Kind::truncated, "the loopback header needs 4 bytes",
                                  static_cast<std::uint32_t>(bytes_.size())});
      return;
    }
    std::uint32_t family;
    if (network_order) {
      family = wire::be32(bytes_.data());
    } else {
      std::memcpy(&family, bytes_.data(), sizeof family);  // the capturing host's order
      // A file from a host of the other byte order: the family is small either way.
      if (family > 0xffff) family = __builtin_bswap32(family);
    }
    p_.loopback_family = family;
    if (family == kFamilyInet) return ipv4(4);
    if (is_inet6_family(family)) return ipv6(4);
  }

  // Raw IP: the version nibble says which.
  void raw_ip(std::uint32_t offset) noexcept {
    if (bytes_.size() <= offset) return;
    const int version = bytes_[offset] >> 4;
    if (version == 6) return ipv6(offset);
    ipv4(offset);  // anything else is shown as IPv4 and its version named as the problem
  }

  void network(std::uint16_t ethertype, std::uint32_t offset) noexcept {
    switch (ethertype) {
      case link::kEthertypeArp: {
        const auto rest = from(offset);
        p_.arp = link::decode_arp(rest);
        push(Protocol::arp, offset, static_cast<std::uint32_t>(rest.size()));
        failed(Protocol::arp, p_.arp.problem);
        return;
      }
      case link::kEthertypeIpv4:
        return ipv4(offset);
      case link::kEthertypeIpv6:
        return ipv6(offset);
      default:
        return;
    }
  }

  void ipv4(std::uint32_t offset) noexcept {
    const auto rest = from(offset);
    p_.ipv4 = inet::decode_ipv4(rest);
    const auto& h = p_.ipv4;
    push(Protocol::ipv4, offset, static_cast<std::uint32_t>(rest.size()));
    if (failed(Protocol::ipv4, h.problem)) return;
    p_.ip_protocol = h.protocol;
    p_.ip_payload_length = h.total_length - h.header_length;  // decode checked the order
    p_.later_fragment = !h.first_fragment();
    if (p_.later_fragment) return;
    transport(offset + h.header_length, h.payload_length);
  }

  void ipv6(std::uint32_t offset) noexcept {
    const auto rest = from(offset);
    p_.ipv6 = inet::decode_ipv6(rest);
    const auto& h = p_.ipv6;
    push(Protocol::ipv6, offset, static_cast<std::uint32_t>(rest.size()));
    if (failed(Protocol::ipv6, h.problem)) return;
    p_.ip_protocol = h.final_next_header;
    const std::uint32_t end = inet::Ipv6Header::kFixedLength + h.payload_length;
    // A payload length of 0 (a jumbogram, or a segmentation offload capture): what was seen.
    p_.ip_payload_length = h.payload_length == 0
                               ? h.payload_bytes
                               : (end > h.header_length ? end - h.header_length : 0);
    p_.later_fragment = h.is_fragment() && !h.first_fragment();
    if (p_.later_fragment) return;
    transport(offset + h.header_length, h.payload_bytes);
  }

  // The network layer's payload: `captured` bytes of it at `offset`.
  void transport(std::uint32_t offset, std::uint32_t captured) noexcept {
    const auto rest = from(offset);
    const auto payload = rest.first(std::min<std::size_t>(captured, rest.size()));
    const auto available = static_cast<std::uint32_t>(payload.size());
    const std::uint32_t wire = std::max(p_.ip_payload_length, available);
    switch (p_.ip_protocol) {
      case inet::kProtocolIcmp:
        if (!p_.has(Protocol::ipv4)) return;
        p_.icmp = inet::decode_icmp(payload, wire);
        if (push(Protocol::icmp, offset, available)) failed(Protocol::icmp, p_.icmp.problem);
        return;
      case inet::kProtocolIcmpv6:
        if (!p_.has(Protocol::ipv6)) return;
        p_.icmpv6 = inet::decode_icmpv6(payload, pseudo_header(wire));
        if (push(Protocol::icmpv6, offset, available)) failed(Protocol::icmpv6, p_.icmpv6.problem);
        return;
      case inet::kProtocolTcp:
        p_.tcp = transport::decode_tcp(payload, pseudo_header(wire));
        if (!push(Protocol::tcp, offset, available) || failed(Protocol::tcp, p_.tcp.problem))
          return;
        return tcp_payload(offset + p_.tcp.header_length);
      case inet::kProtocolUdp:
        p_.udp = transport::decode_udp(payload, pseudo_header(wire));
        if (!push(Protocol::udp, offset, available) || failed(Protocol::udp, p_.udp.problem))
          return;
        return udp_payload(offset + transport::UdpHeader::kLength);
      default:
        return;
    }
  }

  // The checksum's pseudo-header holds the final destination: with a source route (IPv4
  // options, an IPv6 routing header) that has hops to go, the route's last address.
  inet::PseudoHeader pseudo_header(std::uint32_t length) const noexcept {
    inet::Address destination;
    if (const auto* l = p_.find(Protocol::ipv4))
      destination = inet::final_destination(p_.ipv4, from(l->offset));
    else
      destination = inet::final_destination(p_.ipv6, from(p_.find(Protocol::ipv6)->offset));
    return {*p_.source(), destination, p_.ip_protocol, length};
  }

  static bool either_port(std::uint16_t a, std::uint16_t b, std::uint16_t port) noexcept {
    return a == port || b == port;
  }

  void udp_payload(std::uint32_t offset) noexcept {
    const auto& u = p_.udp;
    if (u.payload_length == 0) return;
    const auto payload =
        from(offset).first(std::min<std::size_t>(u.payload_captured, bytes_.size() - offset));
    if (either_port(u.source_port, u.destination_port, kPortDns) ||
        either_port(u.source_port, u.destination_port, kPortMdns)) {
      p_.dns = dns::decode_dns(payload, u.payload_length);
      if (push(Protocol::dns, offset, static_cast<std::uint32_t>(payload.size())))
        failed(Protocol::dns, p_.dns.problem);
    }
  }

  void tcp_payload(std::uint32_t offset) noexcept {
    const auto& t = p_.tcp;
    if (t.payload_length == 0) return;
    const auto payload =
        from(offset).first(std::min<std::size_t>(t.payload_captured, bytes_.size() - offset));
    const auto available = static_cast<std::uint32_t>(payload.size());
    if (either_port(t.source_port, t.destination_port, kPortDns)) {
      p_.dns = dns::decode_dns_tcp(payload);
      if (push(Protocol::dns, offset, available)) failed(Protocol::dns, p_.dns.problem);
      return;
    }
    // HTTP on its ports (a segment of body data there is still HTTP), or on any port when the
    // payload starts like a request or a response.
    if (either_port(t.source_port, t.destination_port, kPortHttp) ||
        either_port(t.source_port, t.destination_port, kPortHttpAlternate) ||
        http::looks_like_http(payload)) {
      p_.http = http::decode_http_head(payload, t.payload_length);
      if (push(Protocol::http, offset, available)) failed(Protocol::http, p_.http.problem);
      return;
    }
    // TLS on 443, or on any port when the payload starts with a record header.
    if (either_port(t.source_port, t.destination_port, kPortHttps) ||
        tls::looks_like_tls(payload)) {
      p_.tls = tls::decode_tls(payload, t.payload_length);
      if (push(Protocol::tls, offset, available)) failed(Protocol::tls, p_.tls.problem);
    }
  }

  static constexpr std::uint16_t kPortDns = 53;
  static constexpr std::uint16_t kPortMdns = 5353;
  static constexpr std::uint16_t kPortHttp = 80;
  static constexpr std::uint16_t kPortHttpAlternate = 8080;
  static constexpr std::uint16_t kPortHttps = 443;

  DecodedPacket& p_;
  std::span<const std::uint8_t> bytes_;
};

}  // namespace

bool link_type_supported(int link_type) noexcept {
  switch (link_type) {
    case kLinkNull:
    case kLinkEthernet:
    case kLinkRaw:
    case kLinkRawFile:
    case kLinkLoop:
    case kLinkLinuxSll:
    case kLinkIpv4:
    case kLinkIpv6:
    case kLinkLinuxSll2:
      return true;
    default:
      return false;
  }
}

std::string_view protocol_name(Protocol protocol) noexcept {
  const auto i = static_cast<std::size_t>(protocol);
  return i < kProtocolCount ? kNames[i] : "unknown";
}

dissect::Layer protocol_layer(Protocol protocol) noexcept {
  switch (protocol) {
    case Protocol::loopback:
    case Protocol::ethernet:
    case Protocol::linux_sll:
    case Protocol::linux_sll2:
    case Protocol::arp:  // ARP resolves L3 addresses but lives in the link layer (link/)
      return dissect::Layer::link;
    case Protocol::ipv4:
    case Protocol::ipv6:
    case Protocol::icmp:
    case Protocol::icmpv6:
      return dissect::Layer::network;
    case Protocol::tcp:
    case Protocol::udp:
      return dissect::Layer::transport;
    default:
      return dissect::Layer::application;
  }
}

const inet::Address* DecodedPacket::source() const noexcept {
  if (has(Protocol::ipv4)) return &ipv4.source;
  if (has(Protocol::ipv6)) return &ipv6.source;
  return nullptr;
}

const inet::Address* DecodedPacket::destination() const noexcept {
  if (has(Protocol::ipv4)) return &ipv4.destination;
  if (has(Protocol::ipv6)) return &ipv6.destination;
  return nullptr;
}

std::uint16_t DecodedPacket::source_port() const noexcept {
  if (has(Protocol::tcp) && tcp.header_length != 0) return tcp.source_port;
  if (has(Protocol::udp) && udp.header_length != 0) return udp.source_port;
  return 0;
}

std::uint16_t DecodedPacket::destination_port() const noexcept {
  if (has(Protocol::tcp) && tcp.header_length != 0) return tcp.destination_port;
  if (has(Protocol::udp) && udp.header_length != 0) return udp.destination_port;
  return 0;
}

std::uint64_t decode_websocket_payload(DecodedPacket& p, std::span<const std::uint8_t> bytes,
                                       std::uint32_t start) noexcept {
  const LayerSpan* tcp = p.find(Protocol::tcp);
  if (tcp == nullptr || p.tcp.header_length == 0 || p.tcp.payload_length == 0) return 0;
  // Drop what the walk made of the payload (HTTP on port 80, or nothing): it is frames. But
  // an HTTP head (the 101) that ends where the frames start stays, with only its bytes.
  const auto tcp_index = static_cast<std::uint8_t>(tcp - p.layers.data());
  const bool after_head = start != 0 && start != kUnknownStart && p.has(Protocol::http) &&
                          p.http.head_length == start &&
                          p.layers[tcp_index + 1].protocol == Protocol::http;
  p.layer_count = static_cast<std::uint8_t>(tcp_index + (after_head ? 2 : 1));
  if (after_head)
    p.layers[tcp_index + 1].available = std::min(p.layers[tcp_index + 1].available, start);
  if (p.problem_in != Protocol::tcp && p.problem_in != Protocol::count &&
      protocol_layer(p.problem_in) == dissect::Layer::application) {
    p.problem = {};
    p.problem_in = Protocol::count;
  }
  const std::uint32_t payload_at = tcp->offset + p.tcp.header_length;
  const std::uint32_t wire = p.tcp.payload_length;
  const auto captured = static_cast<std::uint32_t>(std::min<std::size_t>(
      p.tcp.payload_captured, payload_at <= bytes.size() ? bytes.size() - payload_at : 0));
  const auto push = [&](std::uint32_t from, std::uint32_t n) noexcept {
    if (p.layer_count == DecodedPacket::kMaxLayers) return false;
    // A frame that starts past the snap length has no byte captured: its (empty) layer sits
    // at the capture's end, never past it.
    p.layers[p.layer_count++] = {Protocol::websocket, payload_at + std::min(from, captured), n};
    return true;
  };
  if (start == kUnknownStart || start > wire) {
    p.websocket_unknown = true;
    push(0, captured);
    return 0;
  }
  if (start > 0 && !after_head) {
    p.websocket_carried = start;
    if (!push(0, std::min(start, captured))) return 0;
  }
  std::uint64_t at = start;
  while (at < wire) {
    if (p.websocket_count == DecodedPacket::kMaxFrames) {
      p.websocket_more = true;
      break;
    }
    const auto from = static_cast<std::uint32_t>(at);
    const auto seen =
        bytes.subspan(payload_at + std::min(from, captured), captured > from ? captured - from : 0);
    websocket::FrameView& f = p.websocket[p.websocket_count];
    f = websocket::decode_websocket(seen, wire - from);
    const std::uint64_t size = f.header_length + f.header.payload_length;
    const auto own = static_cast<std::uint32_t>(std::min<std::uint64_t>(size, seen.size()));
    if (!push(from, f.header_length == 0 ? static_cast<std::uint32_t>(seen.size()) : own)) break;
    ++p.websocket_count;
    if (f.problem) {
      p.problem = f.problem;
      p.problem_in = Protocol::websocket;
      // A frame cut by the snap length still says where the next one starts, when no other
      // frame could hide in the bytes not captured.
      const bool last = f.header_length != 0 && at + size >= wire;
      return f.problem.kind == dissect::Problem::Kind::truncated && last ? at + size : 0;
    }
    if (f.header_length == 0) return 0;  // the header goes on in the next segment
    at += size;
  }
  return at;
}

DecodedPacket decode_packet(int link_type, std::span<const std::uint8_t> bytes,
                            std::uint32_t wire_length) noexcept {
  DecodedPacket p;
  p.link_type = link_type;
  p.captured = static_cast<std::uint32_t>(bytes.size());
  p.length = std::max(wire_length, p.captured);
  Walk(p, bytes).link(link_type);
  return p;
}

}  // namespace duplex::capture
