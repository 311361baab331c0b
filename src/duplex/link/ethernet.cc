#include "duplex/link/ethernet.h"

#include <algorithm>

#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"

namespace duplex::link {
namespace {

using dissect::add;
using dissect::decimal;
using dissect::hex;
using wire::be16;
using wire::be32;
using wire::colon_hex;

constexpr std::uint16_t kEthertypeQinQLegacy = 0x9100;  // pre-802.1ad QinQ, still in the wild

bool is_tpid(std::uint16_t type) noexcept {
  return type == kEthertypeVlan || type == kEthertypeQinQ || type == kEthertypeQinQLegacy;
}

MacAddress read_mac(const std::uint8_t* p) noexcept {
  MacAddress::Bytes b{};
  std::copy_n(p, b.size(), b.begin());
  return MacAddress(b);
}

// Reads the VLAN tags that follow `type` at `at`; returns the type after the last one and
// moves `at` past them.
std::uint16_t decode_tags(std::span<const std::uint8_t> bytes, std::uint16_t type,
                          std::uint32_t& at, VlanTags& tags, dissect::Problem& problem) noexcept {
  while (is_tpid(type)) {
    if (tags.count == VlanTags::kMax) {
      problem = {dissect::Problem::Kind::malformed, "more than 4 nested VLAN tags", at};
      return 0;
    }
    if (bytes.size() < at + 2) {
      problem = {dissect::Problem::Kind::truncated, "a VLAN tag needs 4 bytes", at};
      return 0;
    }
    VlanTag& t = tags.tag[tags.count++];
    const std::uint16_t tci = be16(&bytes[at]);
    t.tpid = type;
    t.priority = static_cast<std::uint8_t>(tci >> 13);
    t.dei = (tci & 0x1000) != 0;
    t.id = tci & 0x0fff;
    if (bytes.size() < at + 4) {
      // The TCI was captured and is kept (tshark shows it); the type after it was not.
      problem = {dissect::Problem::Kind::truncated, "a VLAN tag needs 4 bytes", at};
      return 0;
    }
    t.ethertype = be16(&bytes[at + 2]);
    type = t.ethertype;
    at += 4;
  }
  return type;
}

std::string type_meaning(std::uint16_t type) {
  if (type < kEthertypeMinimum) return "802.3 length, LLC follows";
  return std::string(ethertype_name(type));
}

void describe_tags(const VlanTags& tags, std::uint32_t tags_at, std::size_t captured,
                   std::uint32_t offset, dissect::Header& out) {
  dissect::CapturedFields field(out, offset, captured);
  for (std::uint8_t i = 0; i < tags.count; ++i) {
    const VlanTag& t = tags.tag[i];
    const std::uint32_t at = tags_at + 4u * i;
    // Wireshark keys an 802.1ad service tag apart from 802.1Q's, and its type field under
    // the 802.1ah name: ieee8021ad.id == 200 filters the outer tag of a QinQ frame.
    const bool service = t.tpid == kEthertypeQinQ;
    const std::string tag = service ? "ieee8021ad." : "vlan.";
    field(tag + "priority", "Priority", decimal(t.priority), at, 2);
    field(tag + "dei", "DEI", t.dei ? "1" : "0", at, 2,
          t.dei ? "drop eligible" : "not drop eligible");
    field(tag + "id", "ID", decimal(t.id), at, 2);
    const bool length = t.ethertype < kEthertypeMinimum;
    field(service ? (length ? "ieee8021ah.len" : "ieee8021ah.etype")
                  : (length ? "vlan.len" : "vlan.etype"),
          "Type", hex(t.ethertype, 4), at + 2, 2, type_meaning(t.ethertype));
  }
}

std::string type_text(std::uint16_t type) {
  const auto name = ethertype_name(type);
  return "ethertype " + std::string(name.empty() ? "Unknown" : name) + " (" + hex(type, 4) + ")";
}

std::string tags_summary(const VlanTags& tags) {
  std::string s;
  for (std::uint8_t i = 0; i < tags.count; ++i) {
    const VlanTag& t = tags.tag[i];
    s += ", vlan " + decimal(t.id) + ", p " + decimal(t.priority) + (t.dei ? ", DEI" : "") + ", " +
         (t.ethertype < kEthertypeMinimum ? "802.3" : type_text(t.ethertype));
  }
  return s;
}

std::uint32_t remaining(std::span<const std::uint8_t> bytes, std::uint32_t at) noexcept {
  return bytes.size() > at ? static_cast<std::uint32_t>(bytes.size() - at) : 0;
}

}  // namespace

std::string_view ethertype_name(std::uint16_t type) noexcept {
  switch (type) {
    case kEthertypeIpv4:
      return "IPv4";
    case kEthertypeArp:
      return "ARP";
    case 0x0842:
      return "Wake-on-LAN";
    case 0x8035:
      return "RARP";
    case kEthertypeVlan:
      return "802.1Q";
    case kEthertypeIpv6:
      return "IPv6";
    case 0x8808:
      return "Ethernet flow control";
    case 0x8847:
      return "MPLS unicast";
    case 0x8848:
      return "MPLS multicast";
    case 0x8863:
      return "PPPoE discovery";
    case 0x8864:
      return "PPPoE session";
    case 0x888e:
      return "EAPOL";
    case kEthertypeQinQ:
      return "802.1Q-QinQ";
    case 0x88cc:
      return "LLDP";
    case 0x88e5:
      return "MACsec";
    case 0x88f7:
      return "PTP";
    case kEthertypeQinQLegacy:
      return "802.1Q-9100";
  }
  return "";
}

EthernetHeader decode_ethernet(std::span<const std::uint8_t> bytes) noexcept {
  EthernetHeader h;
  if (bytes.size() < EthernetHeader::kLength) {
    // The addresses that were captured are kept, as the convention asks.
    if (bytes.size() >= 6) h.destination = read_mac(bytes.data());
    if (bytes.size() >= 12) h.source = read_mac(bytes.data() + 6);
    h.problem = {dissect::Problem::Kind::truncated, "the Ethernet header needs 14 bytes",
                 static_cast<std::uint32_t>(bytes.size())};
    return h;
  }
  h.destination = read_mac(bytes.data());
  h.source = read_mac(bytes.data() + 6);
  h.type = be16(&bytes[12]);
  std::uint32_t at = EthernetHeader::kLength;
  h.ethertype = decode_tags(bytes, h.type, at, h.vlans, h.problem);
  h.header_length = at;
  if (h.problem) return h;
  const bool length_field = h.ethertype < kEthertypeMinimum;
  h.payload_length = remaining(bytes, at);
  // An 802.3 length cuts the padding a short frame carries.
  if (length_field) h.payload_length = std::min<std::uint32_t>(h.payload_length, h.ethertype);
  if (length_field) h.ethertype = 0;
  return h;
}

void describe(const EthernetHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = h.type != 0 && h.is_8023_length() ? "IEEE 802.3 Ethernet" : "Ethernet II";
  out.layer = dissect::Layer::link;
  out.offset = offset;
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  out.length = h.header_length != 0 ? h.header_length : captured;
  if (captured >= 6)
    add(out.fields, "eth.dst", "Destination", h.destination.to_string(), offset, 6);
  if (captured >= 12) add(out.fields, "eth.src", "Source", h.source.to_string(), offset + 6, 6);
  if (captured >= 14) {
    if (h.is_8023_length())
      add(out.fields, "eth.len", "Length", decimal(h.type), offset + 12, 2,
          "802.3 length, LLC follows");
    else
      add(out.fields, "eth.type", "Type", hex(h.type, 4), offset + 12, 2, type_meaning(h.type));
  }
  describe_tags(h.vlans, EthernetHeader::kLength, bytes.size(), offset, out);
  out.problem = dissect::to_string(h.problem);
}

std::string summary(const EthernetHeader& h, std::uint32_t length) {
  std::string s = h.source.to_string() + " > " + h.destination.to_string() + ", ";
  s += h.is_8023_length() ? "802.3" : type_text(h.type);
  s += ", length " + decimal(length);
  if (h.vlans.count != 0) s += ":" + tags_summary(h.vlans).substr(1);
  return s;
}

namespace {

// The tags after a cooked header of `length` bytes, and where the payload starts.
CookedHeader after_cooked(std::span<const std::uint8_t> bytes, std::uint32_t length,
                          CookedHeader& h) noexcept {
  std::uint32_t at = length;
  h.ethertype = decode_tags(bytes, h.protocol, at, h.vlans, h.problem);
  h.header_length = at;
  h.payload_length = remaining(bytes, at);
  return h;
}

}  // namespace

CookedHeader decode_sll(std::span<const std::uint8_t> bytes) noexcept {
  CookedHeader h;
  h.version = 1;
  if (bytes.size() < CookedHeader::kSllLength) {
    h.problem = {dissect::Problem::Kind::truncated, "the Linux cooked (SLL) header needs 16 bytes",
                 static_cast<std::uint32_t>(bytes.size())};
    return h;
  }
  const std::uint8_t* p = bytes.data();
  h.packet_type = be16(p);
  h.hardware_type = be16(p + 2);
  h.address_length = be16(p + 4);
  std::copy_n(p + 6, h.address.size(), h.address.begin());
  h.protocol = be16(p + 14);
  return after_cooked(bytes, CookedHeader::kSllLength, h);
}

CookedHeader decode_sll2(std::span<const std::uint8_t> bytes) noexcept {
  CookedHeader h;
  h.version = 2;
  if (bytes.size() < CookedHeader::kSll2Length) {
    h.problem = {dissect::Problem::Kind::truncated, "the Linux cooked (SLL2) header needs 20 bytes",
                 static_cast<std::uint32_t>(bytes.size())};
    return h;
  }
  const std::uint8_t* p = bytes.data();
  h.protocol = be16(p);
  h.interface_index = be32(p + 4);
  h.hardware_type = be16(p + 8);
  h.packet_type = p[10];
  h.address_length = p[11];
  std::copy_n(p + 12, h.address.size(), h.address.begin());
  return after_cooked(bytes, CookedHeader::kSll2Length, h);
}

// tcpdump's word and Wireshark's meaning for each sll_pkttype, in its order.
constexpr std::array<std::array<std::string_view, 2>, 5> kPacketTypes{
    {{"In", "unicast to us"},
     {"B", "broadcast"},
     {"M", "multicast"},
     {"P", "unicast to another host"},
     {"Out", "sent by us"}}};

std::string_view packet_type_name(std::uint16_t packet_type) noexcept {
  return packet_type < kPacketTypes.size() ? kPacketTypes[packet_type][0] : "?";
}

namespace {

std::string_view packet_type_meaning(std::uint16_t packet_type) noexcept {
  return packet_type < kPacketTypes.size() ? kPacketTypes[packet_type][1] : "unknown";
}

// The sender's address: its first address_length bytes (at most 8), a MAC for Ethernet.
std::string cooked_address(const CookedHeader& h) {
  const std::size_t n = std::min<std::size_t>(h.address_length, h.address.size());
  return colon_hex(std::span<const std::uint8_t>(h.address).first(n));
}

// Below 0x0600 the protocol is Linux's own (linux/if_ether.h ETH_P_802_3, ETH_P_802_2...).
std::string linux_protocol_meaning(std::uint16_t protocol) {
  switch (protocol) {
    case 0x0001:
      return "802.3 (Novell raw)";
    case 0x0003:
      return "all protocols";
    case 0x0004:
      return "802.2 LLC";
    case 0x000c:
      return "CAN";
    case 0x000d:
      return "CAN FD";
  }
  return "Linux protocol";
}

}  // namespace

void describe(const CookedHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  const bool v2 = h.version == 2;
  out.protocol = v2 ? "Linux cooked capture v2" : "Linux cooked capture v1";
  out.layer = dissect::Layer::link;
  out.offset = offset;
  out.length = h.header_length != 0 ? h.header_length : static_cast<std::uint32_t>(bytes.size());
  out.problem = dissect::to_string(h.problem);
  if (h.header_length == 0 && h.problem.kind == dissect::Problem::Kind::truncated) return;
  // Where each field sits in SLL (v1) and SLL2.
  const std::uint32_t pkttype_at = v2 ? 10 : 0, hatype_at = v2 ? 8 : 2, halen_at = v2 ? 11 : 4,
                      addr_at = v2 ? 12 : 6, proto_at = v2 ? 0 : 14;
  const std::uint32_t small = v2 ? 1 : 2;
  if (v2) {
    add(out.fields, "sll.etype", "Protocol", hex(h.protocol, 4), offset, 2,
        type_meaning(h.protocol));
    add(out.fields, "sll.reserved", "Reserved", hex(be16(&bytes[2]), 4), offset + 2, 2);
    add(out.fields, "sll.ifindex", "Interface index", decimal(h.interface_index), offset + 4, 4);
  }
  add(out.fields, "sll.pkttype", "Packet type", decimal(h.packet_type), offset + pkttype_at, small,
      std::string(packet_type_meaning(h.packet_type)));
  add(out.fields, "sll.hatype", "Link-layer address type", decimal(h.hardware_type),
      offset + hatype_at, 2, h.hardware_type == 1 ? "Ethernet" : "");
  add(out.fields, "sll.halen", "Link-layer address length", decimal(h.address_length),
      offset + halen_at, small);
  const auto shown = static_cast<std::uint32_t>(std::min<std::size_t>(h.address_length, 8));
  const bool mac = h.hardware_type == 1 && h.address_length == 6;
  add(out.fields, mac ? "sll.src.eth" : "sll.src.other", "Source", cooked_address(h),
      offset + addr_at, shown);
  if (shown < 8)
    add(out.fields, "sll.unused", "Unused", colon_hex(bytes.subspan(addr_at + shown, 8 - shown)),
        offset + addr_at + shown, 8 - shown);
  if (!v2) {
    const bool linux_protocol = h.protocol < kEthertypeMinimum;
    add(out.fields, linux_protocol ? "sll.ltype" : "sll.etype", "Protocol", hex(h.protocol, 4),
        offset + proto_at, 2,
        linux_protocol ? linux_protocol_meaning(h.protocol) : type_meaning(h.protocol));
  }
  describe_tags(h.vlans, v2 ? CookedHeader::kSll2Length : CookedHeader::kSllLength, bytes.size(),
                offset, out);
}

std::string summary(const CookedHeader& h, std::uint32_t length) {
  std::string s = std::string(packet_type_name(h.packet_type)) + " ";
  if (h.version == 2) s += "ifindex " + decimal(h.interface_index) + " ";
  if (h.address_length != 0) s += cooked_address(h) + " ";
  s += h.protocol < kEthertypeMinimum ? "Linux protocol " + hex(h.protocol, 4)
                                      : type_text(h.protocol);
  s += ", length " + decimal(length);
  if (h.vlans.count != 0) s += ":" + tags_summary(h.vlans).substr(1);
  return s;
}

}  // namespace duplex::link
