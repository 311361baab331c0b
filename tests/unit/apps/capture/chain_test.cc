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
using test::find_field;
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

// Raw: IP(10.0.0.1 > 10.0.0.2)/TCP(40000 > 80, S, seq=1000, MSS 1460, SAckOK, TS 1 0, NOP,
// WScale 7).
const Bytes kSyn = from_hex(
    "4500003c00010000400666b90a0000010a0000029c400050000003e800000000a002200073840000020405b404"
    "02080a000000010000000001030307");
// Raw: IP/UDP(5000 > 53)/DNS(id=0x1234, rd=1, qd=example.com A).
const Bytes kDnsQuery = from_hex(
    "4500003900010000401166b10a0000010a000002138800350025f642123401000001000000000000076578616d"
    "706c6503636f6d0000010001");

// Raw: IP/TCP(40000 > 7000, PA)/"GET /a HTTP/1.1\r\nHost: x\r\n\r\n": HTTP off its port.
const Bytes kHttpOnOddPort = from_hex(
    "4500004400010000400666b10a0000010a0000029c401b58000003e90000000550182000a5d70000474554202f"
    "6120485454502f312e310d0a486f73743a20780d0a0d0a");
// Raw: IPv6(fe80::1 > ff02::1)/ICMPv6EchoRequest(id=1, seq=2).
const Bytes kPing6 = from_hex(
    "6000000000083a40fe800000000000000000000000000001ff0200000000000000000000000000018000823400"
    "010002");

// Raw: IP/TCP(40000 > 8443, PA)/TLS ClientHello with SNI example.com: TLS off its port.
const Bytes kClientHello = from_hex(
    "45000088000100004006666d0a0000010a0000029c4020fb000000010000000150182000bc1b0000160303005b"
    "010000570303000000008771a177dc710a4bdb7ddf560813726e13eb969a1e6aaa2bebdc9ebf00001ac02bc023"
    "c02fc027009e0067009c003cc009c0130033002f000a0100001400000010000e00000b6578616d706c652e636f"
    "6d");

// The value of the first field with `key` at any depth (a TLS record nests its handshake,
// which nests its extensions), or "<missing key>".
std::string nested_value(const std::vector<dissect::Field>& fields, const std::string& key) {
  for (const auto& f : fields) {
    if (f.key == key) return f.value;
    if (auto v = nested_value(f.children, key); v.rfind("<missing ", 0) != 0) return v;
  }
  return "<missing " + key + ">";
}

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
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers[2].protocol, "IPv4 (quoted by ICMP)");
  EXPECT_EQ(headers[2].offset, 28u);
  EXPECT_EQ(field_value(headers[2], "ip.dst"), "10.0.0.2");
  EXPECT_EQ(field_value(headers[2], "ip.proto"), "17");
  // And the quoted UDP header, whole here (the datagram was short): its checksum verified.
  EXPECT_EQ(headers[3].protocol, "UDP (quoted by ICMP)");
  EXPECT_EQ(headers[3].layer, dissect::Layer::transport);
  EXPECT_EQ(headers[3].offset, 48u);
  EXPECT_EQ(field_value(headers[3], "udp.srcport"), "40000");
  EXPECT_EQ(field_value(headers[3], "udp.dstport"), "9");
  EXPECT_EQ(field_value(headers[3], "udp.checksum.status"), "good");
}

TEST(Chain, IcmpErrorQuotingEightBytesOfTcpShowsPortsAndSequence) {
  // Raw: IP(10.0.0.2 > 10.0.0.1)/ICMP(type=3, code=1)/ a router's quote: IP(10.0.0.1 >
  // 10.0.0.2, proto 6, total length 40) and the first 8 bytes of TCP(40000 > 443,
  // seq=123456789).
  const Bytes b = from_hex(
      "4500003800050000400100000a0000020a0000010301000000000000"
      "4500002800070000010600000a0000010a0000029c4001bb075bcd15");
  const auto headers = describe_packet(kLinkRaw, b, 0);
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers[3].protocol, "TCP (quoted by ICMP)");
  EXPECT_EQ(field_value(headers[3], "tcp.srcport"), "40000");
  EXPECT_EQ(field_value(headers[3], "tcp.dstport"), "443");
  EXPECT_EQ(field_value(headers[3], "tcp.seq_raw"), "123456789");
  EXPECT_EQ(find_field(headers[3], "tcp.flags"), nullptr);  // not quoted, not shown
  EXPECT_EQ(headers[3].offset + headers[3].length, b.size());
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
  const std::vector<std::pair<int, Bytes>> packets = {
      {kLinkEthernet, kArpRequest},   {kLinkEthernet, kVlanPing}, {kLinkRaw, kPortUnreachable},
      {kLinkRaw, kIpv6FirstFragment}, {kLinkRaw, kLaterFragment}, {kLinkRaw, kSyn},
      {kLinkRaw, kDnsQuery}};
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

TEST(Chain, TcpSynWithOptionsIsTheTransportLayer) {
  const auto p = decode_packet(kLinkRaw, kSyn, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::ipv4, Protocol::tcp}));
  EXPECT_EQ(p.tcp.checksum_status, inet::ChecksumStatus::good);
  EXPECT_EQ(p.source_port(), 40000);
  EXPECT_EQ(p.destination_port(), 80);
  EXPECT_EQ(line_of(kLinkRaw, kSyn),
            "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1000, win 8192, options [mss "
            "1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0");
  const auto headers = describe_packet(p, kSyn);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[1].layer, dissect::Layer::transport);
  EXPECT_EQ(field_value(headers[1], "tcp.checksum.status"), "good");
}

TEST(Chain, UdpToPort53IsDns) {
  const auto p = decode_packet(kLinkRaw, kDnsQuery, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::ipv4, Protocol::udp, Protocol::dns}));
  EXPECT_EQ(p.layers[2].offset, 28u);
  EXPECT_EQ(line_of(kLinkRaw, kDnsQuery),
            "IP 10.0.0.1.5000 > 10.0.0.2.53: 4660+ A? example.com. (29)");
  const auto headers = describe_packet(p, kDnsQuery);
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[2].layer, dissect::Layer::application);
  const auto* query = test::find_field(headers[2], "dns.query");
  ASSERT_NE(query, nullptr);
  EXPECT_EQ(field_value(query->children, "dns.qry.name"), "example.com");
}

TEST(Chain, TcpSequenceNumbersAreRelativeAfterTheFirstAckAsTcpdumpShowsThem) {
  // The SYN-ACK sets both bases: 5000 for 10.0.0.2 and 1000 for 10.0.0.1.
  auto tcp = [](std::uint32_t seq, std::uint32_t ack, std::uint16_t flags) {
    transport::TcpHeader t;
    t.sequence = seq;
    t.acknowledgment = ack;
    t.flags = flags;
    return t;
  };
  const auto a = inet::Address::parse("10.0.0.1");
  const auto b = inet::Address::parse("10.0.0.2");
  const auto to_b = conversation_of(a, 40000, b, 80, 6);
  const auto to_a = conversation_of(b, 80, a, 40000, 6);
  EXPECT_FALSE(to_b.reversed);
  EXPECT_TRUE(to_a.reversed);
  EXPECT_EQ(to_a.key, to_b.key);
  TcpSequences s;
  auto syn = tcp(1000, 0, transport::kTcpSyn);
  s.make_relative(syn, to_b);
  EXPECT_EQ(syn.sequence, 1000u);
  auto syn_ack = tcp(5000, 1001, transport::kTcpSyn | transport::kTcpAck);
  s.make_relative(syn_ack, to_a);
  EXPECT_EQ(syn_ack.sequence, 5000u);
  EXPECT_EQ(syn_ack.acknowledgment, 1001u);
  auto ack = tcp(1001, 5001, transport::kTcpAck);
  s.make_relative(ack, to_b);
  EXPECT_EQ(ack.sequence, 1u);
  EXPECT_EQ(ack.acknowledgment, 1u);
  auto reply = tcp(5001, 1007, transport::kTcpAck | transport::kTcpPsh);
  s.make_relative(reply, to_a);
  EXPECT_EQ(reply.sequence, 1u);
  EXPECT_EQ(reply.acknowledgment, 7u);
}

TEST(Chain, HttpIsFoundByWhatThePayloadStartsWithOnAnyPort) {
  const auto p = decode_packet(kLinkRaw, kHttpOnOddPort, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::ipv4, Protocol::tcp, Protocol::http}));
  EXPECT_EQ(p.layers[2].offset, 40u);
  EXPECT_EQ(line_of(kLinkRaw, kHttpOnOddPort),
            "IP 10.0.0.1.40000 > 10.0.0.2.7000: Flags [P.], seq 1001:1029, ack 5, win 8192, "
            "length 28: HTTP: GET /a HTTP/1.1");
  const auto headers = describe_packet(p, kHttpOnOddPort);
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(field_value(headers[2], "http.request.method"), "GET");
}

TEST(Chain, Icmpv6EchoAfterIpv6) {
  const auto p = decode_packet(kLinkIpv6, kPing6, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::ipv6, Protocol::icmpv6}));
  EXPECT_EQ(p.icmpv6.checksum_status, inet::ChecksumStatus::good);
  EXPECT_EQ(line_of(kLinkIpv6, kPing6),
            "IP6 fe80::1 > ff02::1: ICMP6, echo request, id 1, seq 2, length 8");
}

TEST(Chain, TlsClientHelloIsFoundByItsRecordHeaderOnAnyPortAndNamesItsSni) {
  const auto p = decode_packet(kLinkRaw, kClientHello, 0);
  EXPECT_EQ(protocols(p), (std::vector{Protocol::ipv4, Protocol::tcp, Protocol::tls}));
  const auto headers = describe_packet(p, kClientHello);
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[2].protocol, "TLS");
  EXPECT_EQ(headers[2].layer, dissect::Layer::application);
  EXPECT_EQ(headers[2].problem, "");
  EXPECT_EQ(nested_value(headers[2].fields, "tls.handshake.extensions_server_name"), "example.com");
  EXPECT_EQ(line_of(kLinkRaw, kClientHello),
            "IP 10.0.0.1.40000 > 10.0.0.2.8443: Flags [P.], seq 1:97, ack 1, win 8192, "
            "length 96: Client Hello (SNI=example.com)");
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
