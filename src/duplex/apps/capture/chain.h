// Public. The dissector chain of `duplex capture`: one captured packet, from its link header
// up, walked through the codecs of each layer (link/, inet/, transport/, proto/):
//
//   link (Ethernet II + VLAN tags, Linux cooked v1/v2, BSD loopback; none for raw IP)
//     -> ARP | IPv4 | IPv6 (extension headers)
//       -> ICMP (its quoted datagram) | ICMPv6 | TCP | UDP
//         -> DNS | HTTP | TLS (by port, or by what the payload starts with)
//         -> WebSocket frames, once websocket_tracker.h has seen the conversation upgrade
//
// decode_packet() fills one plain struct without allocating (the one-line output and
// --stats need nothing more); describe_packet() gives the layer tree that -V, -X, --json and
// the dashboard print. A header that is cut short or malformed stops the walk there: the
// packet keeps the layers before it and says where and why (`problem`). Only the first
// fragment of a datagram carries the transport header.
// All functions are safe to call from any thread.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "duplex/base/dissect.h"
#include "duplex/inet/icmp.h"
#include "duplex/inet/icmpv6.h"
#include "duplex/inet/ipv4_header.h"
#include "duplex/inet/ipv6_header.h"
#include "duplex/link/arp_frame.h"
#include "duplex/link/ethernet.h"
#include "duplex/proto/dns_message.h"
#include "duplex/proto/http_head.h"
#include "duplex/proto/tls_record.h"
#include "duplex/proto/websocket_view.h"
#include "duplex/transport/tcp_header.h"
#include "duplex/transport/udp_header.h"

namespace duplex::capture {

// The link types the chain reads: libpcap's DLT_ values (pcap_datalink) and, where a file
// stores another number, its LINKTYPE_ value too.
inline constexpr int kLinkNull = 0;  // DLT_NULL: 4-byte address family, host byte order
inline constexpr int kLinkEthernet = link::kLinkTypeEthernet;
inline constexpr int kLinkRaw = 12;       // DLT_RAW (Linux); the packet starts with IP
inline constexpr int kLinkRawFile = 101;  // LINKTYPE_RAW
inline constexpr int kLinkLoop = 108;     // DLT_LOOP: the family in network byte order
inline constexpr int kLinkLinuxSll = link::kLinkTypeLinuxSll;
inline constexpr int kLinkIpv4 = 228;  // DLT_IPV4
inline constexpr int kLinkIpv6 = 229;  // DLT_IPV6
inline constexpr int kLinkLinuxSll2 = link::kLinkTypeLinuxSll2;

// True for every link type above.
bool link_type_supported(int link_type) noexcept;

// Every protocol the chain knows, one per header it can decode.
enum class Protocol : std::uint8_t {
  loopback,  // BSD loopback (DLT_NULL, DLT_LOOP)
  ethernet,
  linux_sll,
  linux_sll2,
  arp,
  ipv4,
  ipv6,
  icmp,
  icmpv6,
  tcp,
  udp,
  dns,
  http,
  tls,
  websocket,
  count  // not a protocol: the number of them
};
inline constexpr std::size_t kProtocolCount = static_cast<std::size_t>(Protocol::count);

// "Ethernet II", "IPv4", "ICMP"...: the name in -V, --json and --stats.
std::string_view protocol_name(Protocol protocol) noexcept;
dissect::Layer protocol_layer(Protocol protocol) noexcept;

// One header of the packet: what it is, where it starts, and the bytes its codec was given
// (from `offset` to the end of what its lower layer carries, as captured).
struct LayerSpan {
  Protocol protocol = Protocol::count;
  std::uint32_t offset = 0;
  std::uint32_t available = 0;

  // Those bytes, out of the packet's (what the codec's describe() and summary() take).
  std::span<const std::uint8_t> in(std::span<const std::uint8_t> packet) const noexcept {
    if (offset > packet.size()) return {};
    return packet.subspan(offset, std::min<std::size_t>(available, packet.size() - offset));
  }
};

struct DecodedPacket {
  static constexpr std::size_t kMaxLayers = 16;
  static constexpr std::size_t kMaxFrames = 8;  // WebSocket frames shown per segment
  int link_type = 0;
  std::uint32_t captured = 0;  // bytes captured
  std::uint32_t length = 0;    // bytes on the wire
  std::array<LayerSpan, kMaxLayers> layers{};
  std::uint8_t layer_count = 0;

  // Each header is valid when its protocol is among `layers`.
  std::uint32_t loopback_family = 0;  // AF_INET 2; AF_INET6 10, 24, 28 or 30
  link::EthernetHeader ethernet;      // ethernet
  link::CookedHeader cooked;          // linux_sll, linux_sll2
  link::ArpHeader arp;
  inet::Ipv4Header ipv4;
  inet::Ipv6Header ipv6;
  inet::IcmpHeader icmp;
  inet::Icmpv6Header icmpv6;
  transport::TcpHeader tcp;
  transport::UdpHeader udp;
  dns::DnsMessage dns;
  http::HttpHead http;
  tls::TlsMessage tls;
  // decode_websocket_payload(): one websocket layer per frame, in order, their FrameViews
  // here. A segment that starts inside a frame begun earlier has first a websocket layer of
  // `websocket_carried` payload bytes (no header); a segment whose frame boundary is not known
  // (a frame header split across segments, a gap, a retransmission) has one layer of them all,
  // `websocket_unknown`. `websocket_more`: frames past kMaxFrames were not shown.
  std::array<websocket::FrameView, kMaxFrames> websocket{};
  std::uint8_t websocket_count = 0;
  std::uint32_t websocket_carried = 0;
  bool websocket_unknown = false;
  bool websocket_more = false;

  // The network layer's payload: its protocol number (IPv4 protocol, IPv6 final next header)
  // and its length on the wire (total length or payload length minus the headers).
  std::uint8_t ip_protocol = 0;
  std::uint32_t ip_payload_length = 0;
  // A fragment after the first: its payload is no transport header.
  bool later_fragment = false;

  // The first problem met, in the header of `problem_in`; the walk stopped there.
  dissect::Problem problem;
  Protocol problem_in = Protocol::count;
  // The link type is none of the ones above: nothing was decoded.
  bool unsupported_link = false;

  const LayerSpan* find(Protocol p) const noexcept {
    for (std::uint8_t i = 0; i < layer_count; ++i)
      if (layers[i].protocol == p) return &layers[i];
    return nullptr;
  }
  bool has(Protocol p) const noexcept { return find(p) != nullptr; }
  // The network layer's addresses (IPv4 or IPv6); nullptr without one.
  const inet::Address* source() const noexcept;
  const inet::Address* destination() const noexcept;
  // The transport layer's ports (TCP or UDP, once its header was whole); 0 without one.
  std::uint16_t source_port() const noexcept;
  std::uint16_t destination_port() const noexcept;
  // The highest protocol decoded (the last layer); nullptr when there is none.
  const LayerSpan* top() const noexcept {
    return layer_count == 0 ? nullptr : &layers[layer_count - 1];
  }
};

// Walks the chain over `bytes` (the captured bytes of one packet, `wire_length` on the wire;
// 0 means all were captured). Never reads past `bytes`; never allocates.
DecodedPacket decode_packet(int link_type, std::span<const std::uint8_t> bytes,
                            std::uint32_t wire_length) noexcept;

// Decodes the TCP payload of `packet` (it has a whole TCP header) as WebSocket frames, in
// place of whatever application layer the walk gave it: the frames begin `start` bytes into
// the payload (the bytes before them end a frame begun in an earlier segment), or nowhere
// known with `start` = kUnknownStart. Returns how many payload bytes on the wire, from the
// payload's start, the frames decoded cover (past the segment when the last one goes on), so
// that the next frame starts there; 0 with kUnknownStart or a frame header cut at the
// segment's end (the boundary is then lost). An HTTP head that ends at `start` (the 101 with
// the first frames behind it) is kept as the layer before them.
inline constexpr std::uint32_t kUnknownStart = 0xffffffff;
std::uint64_t decode_websocket_payload(DecodedPacket& packet, std::span<const std::uint8_t> bytes,
                                       std::uint32_t start) noexcept;

// The layer tree of the packet, one Header per header, in the order of the packet (an ICMP
// error's quoted datagram after the ICMP header); a problem is kept in the Header it stopped.
std::vector<dissect::Header> describe_packet(int link_type, std::span<const std::uint8_t> bytes,
                                             std::uint32_t wire_length);
// The same from a packet decode_packet() already walked over these `bytes`.
std::vector<dissect::Header> describe_packet(const DecodedPacket& packet,
                                             std::span<const std::uint8_t> bytes);

}  // namespace duplex::capture
