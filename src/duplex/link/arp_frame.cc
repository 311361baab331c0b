#include "duplex/link/arp_frame.h"

#include <algorithm>

#include "duplex/base/wire.h"

namespace duplex::link {
namespace {

constexpr std::uint16_t kHardwareEthernet = 1;
constexpr std::uint16_t kProtocolIpv4 = 0x0800;

using wire::be16;
using wire::be32;

MacAddress read_mac(const std::uint8_t* p) noexcept {
  MacAddress::Bytes b{};
  std::copy_n(p, b.size(), b.begin());
  return MacAddress(b);
}

std::uint8_t* write16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
  return p + 2;
}
std::uint8_t* write_mac(std::uint8_t* p, const MacAddress& mac) noexcept {
  return std::copy(mac.bytes().begin(), mac.bytes().end(), p);
}
std::uint8_t* write_ip(std::uint8_t* p, const inet::Address& ip) noexcept {
  // An IPv6 address has no place in an IPv4 ARP body; writing 0.0.0.0 keeps encode() total.
  const std::uint32_t v = ip.to_uint32();
  for (int shift = 24; shift >= 0; shift -= 8) *p++ = static_cast<std::uint8_t>(v >> shift);
  return p;
}

}  // namespace

std::string_view to_string(ArpOp op) noexcept { return op == ArpOp::reply ? "reply" : "request"; }

std::string_view to_string(ArpError error) noexcept {
  switch (error) {
    case ArpError::none:
      return "no error";
    case ArpError::truncated_ethernet:
      return "truncated frame: shorter than the 14-byte Ethernet header";
    case ArpError::not_arp:
      return "not ARP: the ethertype is not 0x0806";
    case ArpError::truncated_arp:
      return "truncated ARP: fewer than the 28 bytes of an IPv4-over-Ethernet ARP body";
    case ArpError::hardware_type:
      return "hardware type is not Ethernet (1)";
    case ArpError::protocol_type:
      return "protocol type is not IPv4 (0x0800)";
    case ArpError::hardware_length:
      return "hardware address length is not 6 (Ethernet)";
    case ArpError::protocol_length:
      return "protocol address length is not 4 (IPv4)";
    case ArpError::opcode:
      return "opcode is neither request (1) nor reply (2)";
  }
  return "unknown error";
}

ArpFrame ArpFrame::request(const MacAddress& mac, const inet::Address& ip,
                           const inet::Address& target_ip) noexcept {
  ArpFrame f;
  f.destination = MacAddress::broadcast();
  f.source = mac;
  f.op = ArpOp::request;
  f.sender_mac = mac;
  f.sender_ip = ip;
  f.target_mac = MacAddress();  // unknown: that is the question
  f.target_ip = target_ip;
  return f;
}

ArpFrame ArpFrame::reply(const MacAddress& mac, const inet::Address& ip, const MacAddress& to_mac,
                         const inet::Address& to_ip) noexcept {
  ArpFrame f;
  f.destination = to_mac;
  f.source = mac;
  f.op = ArpOp::reply;
  f.sender_mac = mac;
  f.sender_ip = ip;
  f.target_mac = to_mac;
  f.target_ip = to_ip;
  return f;
}

ArpFrame ArpFrame::probe(const MacAddress& mac, const inet::Address& target_ip) noexcept {
  return request(mac, inet::Address::v4(0), target_ip);
}

ArpFrame ArpFrame::gratuitous_request(const MacAddress& mac, const inet::Address& ip) noexcept {
  return request(mac, ip, ip);
}

ArpFrame ArpFrame::gratuitous_reply(const MacAddress& mac, const inet::Address& ip) noexcept {
  // Broadcast on Ethernet, but the ARP target MAC is our own: Linux (arp_is_garp) and
  // iputils arping -A take a reply as gratuitous only when the target MAC equals the sender.
  ArpFrame f = reply(mac, ip, mac, ip);
  f.destination = MacAddress::broadcast();
  return f;
}

ArpFrame::Wire ArpFrame::encode() const noexcept {
  Wire w{};
  std::uint8_t* p = w.data();
  p = write_mac(p, destination);
  p = write_mac(p, source);
  p = write16(p, kEthertype);
  p = write16(p, kHardwareEthernet);
  p = write16(p, kProtocolIpv4);
  *p++ = 6;
  *p++ = 4;
  p = write16(p, static_cast<std::uint16_t>(op));
  p = write_mac(p, sender_mac);
  p = write_ip(p, sender_ip);
  p = write_mac(p, target_mac);
  write_ip(p, target_ip);
  return w;
}

ArpError ArpFrame::decode(std::span<const std::uint8_t> bytes, ArpFrame& out) noexcept {
  if (bytes.size() < kEthernetHeader) return ArpError::truncated_ethernet;
  const std::uint8_t* p = bytes.data();
  if (be16(p + 12) != kEthertype) return ArpError::not_arp;
  out.destination = read_mac(p);
  out.source = read_mac(p + 6);
  return decode_body(bytes.subspan(kEthernetHeader), out);
}

ArpError ArpFrame::decode_body(std::span<const std::uint8_t> bytes, ArpFrame& out) noexcept {
  if (bytes.size() < kArpLength) return ArpError::truncated_arp;
  const std::uint8_t* p = bytes.data();
  if (be16(p) != kHardwareEthernet) return ArpError::hardware_type;
  if (be16(p + 2) != kProtocolIpv4) return ArpError::protocol_type;
  if (p[4] != 6) return ArpError::hardware_length;
  if (p[5] != 4) return ArpError::protocol_length;
  const std::uint16_t op = be16(p + 6);
  if (op != 1 && op != 2) return ArpError::opcode;
  out.op = static_cast<ArpOp>(op);
  out.sender_mac = read_mac(p + 8);
  out.sender_ip = inet::Address::v4(be32(p + 14));
  out.target_mac = read_mac(p + 18);
  out.target_ip = inet::Address::v4(be32(p + 24));
  return ArpError::none;
}

}  // namespace duplex::link
