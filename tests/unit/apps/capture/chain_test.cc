// The dissector chain over packets made with scapy; the expected lines are tcpdump -nn's on
// the same bytes (written to a pcap with scapy's wrpcap, read with TZ=UTC tcpdump -nn -r).
#include "duplex/apps/capture/chain.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../../dissect_fields.h"
#include "duplex/apps/capture/line_output.h"

namespace duplex::capture {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::field_value;
using test::from_hex;

// Ether(src=02:..:01, dst=broadcast)/ARP(op=1, psrc=10.0.0.1, pdst=10.0.0.2).
const Bytes kArpRequest = from_hex(
    "ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002");
// Ether/Dot1Q(vlan=100)/IP(10.0.0.1 > 10.0.0.2, id=1)/ICMP(id=1, seq=2)/"abcd".
const Bytes kVlanPing = from_hex(
    "0200000000020200000000018100006408004500002000010000400166da0a0000010a000002080033360001"
    "000261626364");
// Raw: IP(10.0.0.2 > 10.0.0.1)/ICMP(type=3, code=3)/ the quoted IP/UDP(40000 > 9)/"hi".
const Bytes kPortUnreachable = from_hex(
    "4500003a00050000400166bc0a0000020a0000010303111b000000004500001e00090000401166c40a000001"
    "0a0000029c400009000ae7246869");
// Raw: IPv6(2001:db8::1 > 2001:db8::2)/IPv6ExtHdrFragment(offset=0, m=1)/ICMPv6EchoRequest.
const Bytes kIpv6FirstFragment = from_hex(
    "6000000000102c4020010db800000000000000000000000120010db800000000000000000000000"
    "23a000001000000078000244500010002");
// Raw: IP(id=7, frag=3, proto=17)/8 bytes: a later fragment, no UDP header in it.
const Bytes kLaterFragment = from_hex("4500001c00070003401166c50a0000010a0000027979797979797979");
// Raw: IP()/ICMP(id=1, seq=2)/"abcd", no link header.
const Bytes kRawPing = from_hex("4500002000010000400166da0a0000010a000002080033360001000261626364");

std::string line_of(int link_type, const Bytes& bytes, std::uint32_t wire = 0) {
  LineFormatter f;
  std::string s;
  f.append_summary(s, decode_packet(link_type, bytes, wire), bytes);
  return s;
}

std::vector<Protocol> protocols(const DecodedPacket& p) {
  std::vector<Protocol> v;
  for (std::uint8_t i = 0; i < p.layer_count; ++i) v.push_back(p.layers[i].protocol);
  return v;
}

TEST(Chain, EthernetArpRequestIsTwoLinkLayerHeaders) {
  const auto p = decode_packet(kLinkEthernet, kArpRequest, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::ethernet, Protocol::arp}));
  EXPECT_FALSE(p.problem);
  EXPECT_EQ(p.layers[1].offset, 14u);
  EXPECT_EQ(p.arp.frame.target_ip.to_string(), "10.0.0.2");
  EXPECT_EQ(line_of(kLinkEthernet, kArpRequest),
            "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28");
}

TEST(Chain, VlanTaggedPingWalksToIcmpAfterTheTag) {
  const auto p = decode_packet(kLinkEthernet, kVlanPing, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::ethernet, Protocol::ipv4, Protocol::icmp}));
  EXPECT_EQ(p.ethernet.vlans.count, 1);
  EXPECT_EQ(p.ethernet.vlans.tag[0].id, 100);
  EXPECT_EQ(p.layers[1].offset, 18u);
  EXPECT_EQ(p.layers[2].offset, 38u);
  EXPECT_EQ(p.ip_protocol, 1);
  EXPECT_EQ(p.ip_payload_length, 12u);
  EXPECT_EQ(line_of(kLinkEthernet, kVlanPing),
            "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 12");
}

TEST(Chain, RawIpAndIpv4LinkTypesStartWithTheIpHeader) {
  for (int link_type : {kLinkRaw, kLinkRawFile, kLinkIpv4}) {
    const auto p = decode_packet(link_type, kRawPing, 0);
    EXPECT_EQ(protocols(p), (std::vector{Protocol::ipv4, Protocol::icmp})) << link_type;
    EXPECT_EQ(line_of(link_type, kRawPing),
              "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 12");
  }
}

TEST(Chain, LoopbackHeaderNamesTheFamilyInEitherByteOrder) {
  Bytes null_le = {2, 0, 0, 0};
  null_le.insert(null_le.end(), kRawPing.begin(), kRawPing.end());
  auto p = decode_packet(kLinkNull, null_le, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::loopback, Protocol::ipv4, Protocol::icmp}));
  EXPECT_EQ(p.loopback_family, 2u);
  Bytes loop_be = {0, 0, 0, 2};
  loop_be.insert(loop_be.end(), kRawPing.begin(), kRawPing.end());
  p = decode_packet(kLinkLoop, loop_be, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::loopback, Protocol::ipv4, Protocol::icmp}));
  // A big-endian host's DLT_NULL file read here: the family is still 2.
  p = decode_packet(kLinkNull, loop_be, 0);
  EXPECT_EQ(p.loopback_family, 2u);
}

TEST(Chain, LinuxCookedV2HeaderLeadsToIpv4) {
  // SLL2: protocol 0x0800, reserved, ifindex 1, ARPHRD 772 (loopback), packet type 0 (In),
  // address length 6, address, 2 bytes of padding.
  Bytes sll2 = from_hex("0800000000000001030400060000000000000000");
  sll2.insert(sll2.end(), kRawPing.begin(), kRawPing.end());
  const auto p = decode_packet(kLinkLinuxSll2, sll2, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::linux_sll2, Protocol::ipv4, Protocol::icmp}));
  EXPECT_EQ(p.cooked.interface_index, 1u);
  EXPECT_EQ(p.layers[1].offset, 20u);
  // tcpdump prints the interface (as this host names index 1, the loopback) and "In".
  EXPECT_EQ(line_of(kLinkLinuxSll2, sll2),
            "lo    In  IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 12");
}

TEST(Chain, IcmpErrorQuotesTheLostDatagramAsItsOwnHeader) {
  const auto p = decode_packet(kLinkRaw, kPortUnreachable, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::ipv4, Protocol::icmp}));
  EXPECT_EQ(line_of(kLinkRaw, kPortUnreachable),
            "IP 10.0.0.2 > 10.0.0.1: ICMP 10.0.0.2 udp port 9 unreachable, length 38");
  const auto headers = describe_packet(kLinkRaw, kPortUnreachable, 0);
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[2].protocol, "IPv4 (quoted by ICMP)");
  EXPECT_EQ(headers[2].offset, 28u);
  EXPECT_EQ(field_value(headers[2], "ip.dst"), "10.0.0.2");
  EXPECT_EQ(field_value(headers[2], "ip.proto"), "17");
}

TEST(Chain, OnlyTheFirstFragmentCarriesTheTransportHeader) {
  const auto later = decode_packet(kLinkRaw, kLaterFragment, 0);
  EXPECT_EQ(protocols(later), (std::vector{Protocol::ipv4}));
  EXPECT_TRUE(later.later_fragment);
  EXPECT_EQ(line_of(kLinkRaw, kLaterFragment), "IP 10.0.0.1 > 10.0.0.2: ip-proto-17");

  const auto first = decode_packet(kLinkRaw, kIpv6FirstFragment, 0);
  EXPECT_FALSE(first.later_fragment);
  EXPECT_TRUE(first.ipv6.is_fragment());
  EXPECT_EQ(first.ip_protocol, 58);
  EXPECT_EQ(first.layers[0].protocol, Protocol::ipv6);
}

TEST(Chain, Ipv4HeaderWithIhlBelowFiveStopsTheWalkWithAMarker) {
  Bytes bad = kVlanPing;
  bad[18] = 0x44;  // IHL 4
  const auto p = decode_packet(kLinkEthernet, bad, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::ethernet, Protocol::ipv4}));
  EXPECT_EQ(p.problem_in, Protocol::ipv4);
  EXPECT_EQ(p.problem.kind, dissect::Problem::Kind::malformed);
  EXPECT_EQ(line_of(kLinkEthernet, bad),
            "IP [malformed at byte 0 of the header: IHL is below 5 (20 bytes)]");
  const auto headers = describe_packet(kLinkEthernet, bad, 0);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_NE(headers[1].problem.find("IHL is below 5"), std::string::npos);
}

TEST(Chain, EveryPrefixOfEveryPacketDecodesWithoutReadingPastIt) {
  // Under ASan a read past the copy is an error: each prefix is its own allocation.
  const std::vector<std::pair<int, Bytes>> packets = {{kLinkEthernet, kArpRequest},
                                                      {kLinkEthernet, kVlanPing},
                                                      {kLinkRaw, kPortUnreachable},
                                                      {kLinkRaw, kIpv6FirstFragment},
                                                      {kLinkRaw, kLaterFragment}};
  for (const auto& [link_type, whole] : packets) {
    for (std::size_t n = 0; n < whole.size(); ++n) {
      const Bytes prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
      const auto p = decode_packet(link_type, prefix, static_cast<std::uint32_t>(whole.size()));
      EXPECT_EQ(p.captured, n);
      EXPECT_EQ(p.length, whole.size());
      const auto headers = describe_packet(p, prefix);
      for (const auto& h : headers) EXPECT_LE(h.offset, n);
      (void)line_of(link_type, prefix, static_cast<std::uint32_t>(whole.size()));
    }
  }
}

TEST(Chain, FrameShorterThanItsEthernetHeaderIsMarkedTruncated) {
  const Bytes short_frame(kArpRequest.begin(), kArpRequest.begin() + 10);
  const auto p = decode_packet(kLinkEthernet, short_frame, 42);
  EXPECT_EQ(p.problem_in, Protocol::ethernet);
  EXPECT_EQ(p.problem.kind, dissect::Problem::Kind::truncated);
  EXPECT_EQ(line_of(kLinkEthernet, short_frame, 42).rfind("Ethernet [truncated at byte", 0), 0u);
}

TEST(Chain, UnknownLinkTypeDecodesNothingAndSaysSo) {
  const auto p = decode_packet(147, kRawPing, 0);  // DLT_USER0
  EXPECT_TRUE(p.unsupported_link);
  EXPECT_EQ(p.layer_count, 0);
  EXPECT_FALSE(link_type_supported(147));
  EXPECT_EQ(line_of(147, kRawPing), "link type 147 is not decoded, length 32");
}

TEST(Chain, ProtocolsKnowTheirLayer) {
  EXPECT_EQ(protocol_layer(Protocol::ethernet), dissect::Layer::link);
  EXPECT_EQ(protocol_layer(Protocol::arp), dissect::Layer::link);
  EXPECT_EQ(protocol_layer(Protocol::icmp), dissect::Layer::network);
  EXPECT_EQ(protocol_layer(Protocol::tcp), dissect::Layer::transport);
  EXPECT_EQ(protocol_layer(Protocol::dns), dissect::Layer::application);
  EXPECT_EQ(protocol_name(Protocol::linux_sll2), "Linux cooked capture v2");
}

}  // namespace
}  // namespace duplex::capture
