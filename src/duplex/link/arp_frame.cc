#include "duplex/link/arp_frame.h"

#include <algorithm>

#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"
#include "duplex/link/ethernet.h"

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

// The four addresses of an IPv4-over-Ethernet body, `p` at its first byte; 28 bytes there.
void read_addresses(const std::uint8_t* p, ArpFrame& out) noexcept {
  out.sender_mac = read_mac(p + 8);
  out.sender_ip = inet::Address::v4(be32(p + 14));
  out.target_mac = read_mac(p + 18);
  out.target_ip = inet::Address::v4(be32(p + 24));
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

ArpHeader decode_arp(std::span<const std::uint8_t> bytes) noexcept {
  ArpHeader h;
  const std::uint8_t* p = bytes.data();
  // The fixed fields that were captured are kept, as the convention asks (tshark shows them).
  if (bytes.size() >= 2) h.hardware_type = be16(p);
  if (bytes.size() >= 4) h.protocol_type = be16(p + 2);
  if (bytes.size() >= 5) h.hardware_length = p[4];
  if (bytes.size() >= 6) h.protocol_length = p[5];
  if (bytes.size() < ArpHeader::kFixedLength) {
    h.problem = {dissect::Problem::Kind::truncated, "the ARP header needs 8 bytes",
                 static_cast<std::uint32_t>(bytes.size())};
    return h;
  }
  h.opcode = be16(p + 6);
  const std::uint32_t length =
      ArpHeader::kFixedLength + 2u * (h.hardware_length + h.protocol_length);
  if (bytes.size() < length) {
    h.problem = {dissect::Problem::Kind::truncated,
                 "the ARP addresses need 2 * (hardware size + protocol size) bytes",
                 ArpHeader::kFixedLength};
    return h;
  }
  h.header_length = length;
  h.ipv4_over_ethernet = h.hardware_type == kHardwareEthernet && h.protocol_type == kProtocolIpv4 &&
                         h.hardware_length == 6 && h.protocol_length == 4;
  if (h.ipv4_over_ethernet) read_addresses(p, h.frame);
  return h;
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
  read_addresses(p, out);
  return ArpError::none;
}

std::string_view arp_opcode_name(std::uint16_t opcode) noexcept {
  switch (opcode) {
    case 1:
      return "request";
    case 2:
      return "reply";
    case 3:
      return "reverse request";
    case 4:
      return "reverse reply";
    case 8:
      return "inverse request";
    case 9:
      return "inverse reply";
  }
  return "";
}

void describe(const ArpHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  using dissect::add;
  using dissect::decimal;
  out.protocol = "ARP";
  out.layer = dissect::Layer::link;
  out.offset = offset;
  out.length = h.header_length != 0 ? h.header_length : static_cast<std::uint32_t>(bytes.size());
  out.problem = dissect::to_string(h.problem);
  dissect::CapturedFields field(out, offset, bytes.size());
  field("arp.hw.type", "Hardware type", decimal(h.hardware_type), 0, 2,
        h.hardware_type == kHardwareEthernet ? "Ethernet" : "");
  field("arp.proto.type", "Protocol type", dissect::hex(h.protocol_type, 4), 2, 2,
        std::string(ethertype_name(h.protocol_type)));
  field("arp.hw.size", "Hardware size", decimal(h.hardware_length), 4, 1);
  field("arp.proto.size", "Protocol size", decimal(h.protocol_length), 5, 1);
  field("arp.opcode", "Opcode", decimal(h.opcode), 6, 2, std::string(arp_opcode_name(h.opcode)));
  if (h.header_length == 0) return;
  const std::uint32_t hl = h.hardware_length, pl = h.protocol_length;
  const std::uint32_t src_hw = 8, src_proto = 8 + hl, dst_hw = 8 + hl + pl,
                      dst_proto = 8 + 2 * hl + pl;
  if (h.ipv4_over_ethernet) {
    add(out.fields, "arp.src.hw_mac", "Sender MAC address", h.frame.sender_mac.to_string(),
        offset + src_hw, 6);
    add(out.fields, "arp.src.proto_ipv4", "Sender IP address", h.frame.sender_ip.to_string(),
        offset + src_proto, 4);
    add(out.fields, "arp.dst.hw_mac", "Target MAC address", h.frame.target_mac.to_string(),
        offset + dst_hw, 6);
    add(out.fields, "arp.dst.proto_ipv4", "Target IP address", h.frame.target_ip.to_string(),
        offset + dst_proto, 4);
    return;
  }
  add(out.fields, "arp.src.hw", "Sender hardware address",
      wire::colon_hex(bytes.subspan(src_hw, hl)), offset + src_hw, hl);
  add(out.fields, "arp.src.proto", "Sender protocol address",
      wire::colon_hex(bytes.subspan(src_proto, pl)), offset + src_proto, pl);
  add(out.fields, "arp.dst.hw", "Target hardware address",
      wire::colon_hex(bytes.subspan(dst_hw, hl)), offset + dst_hw, hl);
  add(out.fields, "arp.dst.proto", "Target protocol address",
      wire::colon_hex(bytes.subspan(dst_proto, pl)), offset + dst_proto, pl);
}

std::string summary(const ArpHeader& h, std::uint32_t length) {
  const std::string tail = ", length " + dissect::decimal(length);
  if (h.header_length == 0 || !h.ipv4_over_ethernet) {
    // tcpdump names the kinds it cannot print the addresses of.
    return "hardware type " + dissect::decimal(h.hardware_type) + " (len " +
           dissect::decimal(h.hardware_length) + "), protocol " + dissect::hex(h.protocol_type, 4) +
           " (len " + dissect::decimal(h.protocol_length) + ")" + tail;
  }
  const ArpFrame& f = h.frame;
  switch (h.opcode) {
    case 1:
      return "Request who-has " + f.target_ip.to_string() +
             (f.target_mac.is_zero() ? "" : " (" + f.target_mac.to_string() + ")") + " tell " +
             f.sender_ip.to_string() + tail;
    case 2:
      return "Reply " + f.sender_ip.to_string() + " is-at " + f.sender_mac.to_string() + tail;
    case 3:
      return "Reverse Request who-is " + f.target_mac.to_string() + " tell " +
             f.sender_mac.to_string() + tail;
    case 4:
      return "Reverse Reply " + f.target_mac.to_string() + " at " + f.target_ip.to_string() + tail;
    case 8:
      return "Inverse Request who-is " + f.target_mac.to_string() + " tell " +
             f.sender_mac.to_string() + tail;
    case 9:
      return "Inverse Reply " + f.sender_mac.to_string() + " at " + f.sender_ip.to_string() + tail;
  }
  return "Unknown ARP opcode " + dissect::hex(h.opcode, 4) + tail;
}

}  // namespace duplex::link
