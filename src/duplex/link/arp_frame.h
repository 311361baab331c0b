// Public. The ARP frame codec: ARP for IPv4 over Ethernet (RFC 826), carried in an
// Ethernet II frame (ethertype 0x0806).
//
//   Ethernet  destination(6) source(6) ethertype(2)=0x0806
//   ARP       htype(2)=1 ptype(2)=0x0800 hlen(1)=6 plen(1)=4 oper(2)=1|2
//             sha(6) spa(4) tha(6) tpa(4)
//
// 42 bytes on the wire; encode() pads to the 60-byte Ethernet minimum (without FCS), as a
// NIC would. decode() is strict: a truncated frame, another ethertype, hardware or protocol,
// odd address lengths or an opcode other than request/reply are rejected with the reason;
// padding after the 28 ARP bytes is allowed. decode() never throws and never allocates (it
// runs once per frame on the wire).
//
// The builders name the frames that RFC 826 and RFC 5227 (IPv4 address conflict detection)
// define. All functions are safe to call from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "duplex/base/dissect.h"
#include "duplex/inet/address.h"
#include "duplex/link/mac_address.h"

namespace duplex::link {

enum class ArpOp : std::uint16_t { request = 1, reply = 2 };

// "request" or "reply".
std::string_view to_string(ArpOp op) noexcept;

// Why decode() rejected a frame.
enum class ArpError : std::uint8_t {
  none,
  truncated_ethernet,  // fewer than 14 bytes: no whole Ethernet header
  not_arp,             // the ethertype is not 0x0806 (ARP)
  truncated_arp,       // fewer than 28 ARP bytes after the Ethernet header
  hardware_type,       // htype is not 1 (Ethernet)
  protocol_type,       // ptype is not 0x0800 (IPv4)
  hardware_length,     // hlen is not 6
  protocol_length,     // plen is not 4
  opcode,              // oper is neither 1 (request) nor 2 (reply): RARP, InARP...
};

// One line saying why, e.g. "hardware type is not Ethernet (1)".
std::string_view to_string(ArpError error) noexcept;

struct ArpFrame {
  static constexpr std::uint16_t kEthertype = 0x0806;
  static constexpr std::size_t kEthernetHeader = 14;
  static constexpr std::size_t kArpLength = 28;
  static constexpr std::size_t kLength = kEthernetHeader + kArpLength;  // 42
  static constexpr std::size_t kPaddedLength = 60;                      // Ethernet minimum
  using Wire = std::array<std::uint8_t, kPaddedLength>;

  // Ethernet header.
  MacAddress destination;
  MacAddress source;
  // ARP body.
  ArpOp op = ArpOp::request;
  MacAddress sender_mac;
  inet::Address sender_ip;  // IPv4
  MacAddress target_mac;
  inet::Address target_ip;  // IPv4

  // "Who has target_ip? Tell sender_ip", broadcast.
  static ArpFrame request(const MacAddress& mac, const inet::Address& ip,
                          const inet::Address& target_ip) noexcept;
  // "ip is at mac", sent to whoever asked.
  static ArpFrame reply(const MacAddress& mac, const inet::Address& ip, const MacAddress& to_mac,
                        const inet::Address& to_ip) noexcept;
  // RFC 5227 probe: "is anyone using target_ip?" with sender IP 0.0.0.0, so that no
  // listener caches the prober's MAC for an address it does not hold yet.
  static ArpFrame probe(const MacAddress& mac, const inet::Address& target_ip) noexcept;
  // Gratuitous ARP (RFC 5227 announcement): a broadcast request with sender and target IP
  // both our own, so that every neighbour updates its cache entry for ip.
  static ArpFrame gratuitous_request(const MacAddress& mac, const inet::Address& ip) noexcept;
  // The same announcement as an unsolicited broadcast reply (some stacks only learn
  // from replies); its target MAC is the sender's own, as Linux requires of a gratuitous
  // reply.
  static ArpFrame gratuitous_reply(const MacAddress& mac, const inet::Address& ip) noexcept;

  bool is_probe() const noexcept { return op == ArpOp::request && sender_ip.to_uint32() == 0; }
  bool is_gratuitous() const noexcept { return sender_ip == target_ip && !is_probe(); }
  // The Ethernet source differs from the ARP sender: a proxy, a bridge or a forgery.
  bool sender_mismatch() const noexcept { return source != sender_mac; }

  // The frame as it goes on the wire, zero-padded to 60 bytes.
  Wire encode() const noexcept;

  // Reads a frame starting at its Ethernet header. On success fills `out` and returns
  // ArpError::none; otherwise returns why and leaves `out` unspecified.
  static ArpError decode(std::span<const std::uint8_t> bytes, ArpFrame& out) noexcept;
  // Reads only the 28-byte ARP body (as a SOCK_DGRAM packet socket delivers it); the
  // Ethernet fields are left as they are.
  static ArpError decode_body(std::span<const std::uint8_t> bytes, ArpFrame& out) noexcept;

  friend bool operator==(const ArpFrame&, const ArpFrame&) = default;
};

// An ARP body as `duplex capture` shows it, from the ARP bytes on, after whatever link header
// carried it (Ethernet, VLAN tags, Linux cooked capture). Unlike ArpFrame::decode_body it
// accepts every hardware type, protocol and opcode (RARP, InARP...), since a capture shows
// what is on the wire; the addresses of IPv4 over Ethernet are decoded as ArpFrame does.
struct ArpHeader {
  static constexpr std::uint32_t kFixedLength = 8;  // htype ptype hlen plen oper
  std::uint16_t hardware_type = 0;
  std::uint16_t protocol_type = 0;
  std::uint8_t hardware_length = 0;
  std::uint8_t protocol_length = 0;
  std::uint16_t opcode = 0;  // 1 request, 2 reply, 3/4 RARP, 8/9 InARP
  // Hardware type 1, protocol 0x0800, lengths 6 and 4: `frame` holds the four addresses
  // (its Ethernet fields and `op` are left as they are).
  bool ipv4_over_ethernet = false;
  ArpFrame frame;
  std::uint32_t header_length = 0;  // 8 + 2 * (hlen + plen) when whole
  dissect::Problem problem;
};

ArpHeader decode_arp(std::span<const std::uint8_t> bytes) noexcept;
// "ARP" with arp.hw.type, arp.proto.type, arp.hw.size, arp.proto.size, arp.opcode, then
// arp.src.hw_mac, arp.src.proto_ipv4, arp.dst.hw_mac, arp.dst.proto_ipv4 (arp.src.hw,
// arp.src.proto... as bytes for other kinds of addresses).
void describe(const ArpHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As tcpdump: "Request who-has 10.0.0.2 tell 10.0.0.1, length 28", "Reply 10.0.0.2 is-at
// 02:00:00:00:00:02, length 28"; `length` is the bytes after the link header.
std::string summary(const ArpHeader& h, std::uint32_t length);
// "request", "reply", "reverse request"...; "" when unknown.
std::string_view arp_opcode_name(std::uint16_t opcode) noexcept;

}  // namespace duplex::link
