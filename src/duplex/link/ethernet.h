// Public. The link-layer headers `duplex capture` reads, decoded strictly and without heap
// allocation (the convention of base/dissect.h):
//
//   Ethernet II   destination(6) source(6) type(2)          (DLT_EN10MB; type < 0x0600 is an
//                                                            IEEE 802.3 length, LLC follows)
//   802.1Q tag    TPID(2)=0x8100 TCI(2) type(2)             (802.1ad 0x88a8 outer tag: QinQ)
//   Linux SLL     packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
//                                                           (DLT_LINUX_SLL, 16 bytes)
//   Linux SLL2    protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1)
//                 address length(1) address(8)              (DLT_LINUX_SLL2, 20 bytes)
//
// libpcap gives SLL or SLL2 for `-i any`. Each decode leaves the final ethertype (after any
// VLAN tags) and the offset of the payload, which is what the dissector chain goes on with.
// All functions are safe to call from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "duplex/base/dissect.h"
#include "duplex/link/mac_address.h"

namespace duplex::link {

// The pcap link types (DLT_ / LINKTYPE_ values) these codecs read.
inline constexpr int kLinkTypeEthernet = 1;
inline constexpr int kLinkTypeLinuxSll = 113;
inline constexpr int kLinkTypeLinuxSll2 = 276;

// Well-known ethertypes; a value below kEthertypeMinimum is an IEEE 802.3 length instead.
inline constexpr std::uint16_t kEthertypeMinimum = 0x0600;
inline constexpr std::uint16_t kEthertypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEthertypeArp = 0x0806;
inline constexpr std::uint16_t kEthertypeVlan = 0x8100;  // 802.1Q customer tag
inline constexpr std::uint16_t kEthertypeQinQ = 0x88a8;  // 802.1ad service tag
inline constexpr std::uint16_t kEthertypeIpv6 = 0x86dd;

// "IPv4", "ARP", "IPv6", "802.1Q", "802.1Q-QinQ", "LLDP"... (tcpdump's names); "" when
// unknown.
std::string_view ethertype_name(std::uint16_t type) noexcept;

// One 802.1Q/802.1ad tag: the TPID that announced it, its TCI and the type after it.
struct VlanTag {
  std::uint16_t tpid = 0;       // 0x8100, 0x88a8 (or the old QinQ 0x9100)
  std::uint8_t priority = 0;    // PCP, 3 bits
  bool dei = false;             // drop eligible
  std::uint16_t id = 0;         // VID, 12 bits
  std::uint16_t ethertype = 0;  // the type that follows the tag
};

// The tags after a link header, outermost first. More than kMax nested tags is malformed
// (Wireshark calls it "too many nested VLAN tags"): a bound so that a crafted frame of tags
// cannot hide its payload.
struct VlanTags {
  static constexpr std::size_t kMax = 4;
  std::array<VlanTag, kMax> tag{};
  std::uint8_t count = 0;
};

struct EthernetHeader {
  static constexpr std::uint32_t kLength = 14;
  MacAddress destination;
  MacAddress source;
  std::uint16_t type = 0;  // the type/length field at byte 12, as on the wire
  // type < 0x0600: IEEE 802.3, `type` is the payload length and LLC (802.2) follows.
  bool is_8023_length() const noexcept { return type < kEthertypeMinimum; }
  VlanTags vlans;
  std::uint16_t ethertype = 0;       // the final type after the tags; 0 for 802.3
  std::uint32_t header_length = 0;   // where the payload starts (after every tag)
  std::uint32_t payload_length = 0;  // captured bytes after the header (802.3: its length)
  dissect::Problem problem;
};

EthernetHeader decode_ethernet(std::span<const std::uint8_t> bytes) noexcept;
// Fills out as "Ethernet II" (or "IEEE 802.3 Ethernet"), its fields eth.dst, eth.src, eth.type
// (eth.len for 802.3) and one group of vlan.priority, vlan.dei, vlan.id, vlan.etype per tag
// (Wireshark's ieee8021ad.priority, .dei, .id and ieee8021ah.etype for an 802.1ad tag).
void describe(const EthernetHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As tcpdump -e: "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype IPv4 (0x0800), length 60"
// (with ", vlan 100, p 0, ethertype IPv4 (0x0800)" per tag); `length` is the frame's.
std::string summary(const EthernetHeader& h, std::uint32_t length);

// A Linux cooked capture header, version 1 (SLL) or 2 (SLL2).
struct CookedHeader {
  static constexpr std::uint32_t kSllLength = 16;
  static constexpr std::uint32_t kSll2Length = 20;
  // The sll_pkttype values (linux/if_packet.h).
  enum PacketType : std::uint16_t {
    host = 0,
    broadcast = 1,
    multicast = 2,
    other_host = 3,
    outgoing = 4
  };
  std::uint8_t version = 1;               // 1: SLL, 2: SLL2
  std::uint16_t packet_type = 0;          // PacketType
  std::uint16_t hardware_type = 0;        // ARPHRD_*: 1 Ethernet, 772 loopback, 778 GRE...
  std::uint16_t address_length = 0;       // of the sender's link-layer address
  std::array<std::uint8_t, 8> address{};  // the first 8 bytes of that address
  std::uint16_t protocol = 0;             // an ethertype, or below 0x0600 a Linux protocol
  std::uint32_t interface_index = 0;      // SLL2 only
  VlanTags vlans;
  std::uint16_t ethertype = 0;  // the final type after any tags
  std::uint32_t header_length = 0;
  std::uint32_t payload_length = 0;
  dissect::Problem problem;
};

CookedHeader decode_sll(std::span<const std::uint8_t> bytes) noexcept;
CookedHeader decode_sll2(std::span<const std::uint8_t> bytes) noexcept;
// "Linux cooked capture v1"/"v2" with sll.pkttype, sll.hatype, sll.halen, sll.src.eth (or
// sll.src.other), sll.etype (sll.ltype for a Linux protocol), sll.ifindex (v2) and the tags.
void describe(const CookedHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As tcpdump -e on `any`: "In 02:00:00:00:00:01 ethertype IPv4 (0x0800), length 84"; SLL2 adds
// the interface index after the packet type ("In ifindex 2 02:00:...").
std::string summary(const CookedHeader& h, std::uint32_t length);
// "In", "B", "M", "P", "Out" (tcpdump's words for the packet type).
std::string_view packet_type_name(std::uint16_t packet_type) noexcept;

}  // namespace duplex::link
