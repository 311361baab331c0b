// Ethernet II, 802.3, VLAN tags (QinQ) and Linux cooked capture (SLL, SLL2), against frames
// made with scapy and read back with tshark and tcpdump -e.
#include "duplex/link/ethernet.h"

#include <gtest/gtest.h>

#include "../dissect_fields.h"

#include <string>
#include <vector>

namespace duplex::link {
namespace {

using Bytes = std::vector<std::uint8_t>;

// scapy: Ether(src=02:..:01, dst=02:..:02)/Dot1AD(vlan=100, prio=5, id=1)/Dot1Q(vlan=200)/IP()/
// ICMP(), cut after the tags (the IPv4 bytes start at 22).
const Bytes kQinQ{0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
                  0x88, 0xa8, 0xb0, 0x64, 0x81, 0x00, 0x00, 0xc8, 0x08, 0x00, 0x45, 0x00};
// scapy: CookedLinux(pkttype=4 (outgoing), lladdrtype=1, lladdrlen=6, proto=0x0800)/IP()...
const Bytes kSll{0x00, 0x04, 0x00, 0x01, 0x00, 0x06, 0x02, 0x00, 0x00,
                 0x00, 0x00, 0x01, 0x00, 0x00, 0x08, 0x00, 0x45, 0x00};
// scapy: CookedLinuxV2(proto=0x86dd, ifindex=2, lladdrtype=1, pkttype=0, lladdrlen=6)/IPv6()...
const Bytes kSll2{0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00,
                  0x06, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x60, 0x00};

using test::field_value;
using test::find_field;

TEST(Ethernet, DecodesAnUntaggedIpv4Frame) {
  const Bytes frame{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00,
                    0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x14};
  const auto h = decode_ethernet(frame);
  EXPECT_FALSE(h.problem);
  EXPECT_TRUE(h.destination.is_broadcast());
  EXPECT_EQ(h.source.to_string(), "02:00:00:00:00:01");
  EXPECT_EQ(h.ethertype, kEthertypeIpv4);
  EXPECT_EQ(h.header_length, 14u);
  EXPECT_EQ(h.payload_length, 4u);
  EXPECT_EQ(summary(h, 60),
            "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype IPv4 (0x0800), length 60");
}

TEST(Ethernet, StackedQinQTagsGiveTheInnerEthertypeAndPayloadOffset) {
  const auto h = decode_ethernet(kQinQ);
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.type, kEthertypeQinQ);
  ASSERT_EQ(h.vlans.count, 2);
  EXPECT_EQ(h.vlans.tag[0].tpid, kEthertypeQinQ);
  EXPECT_EQ(h.vlans.tag[0].id, 100);
  EXPECT_EQ(h.vlans.tag[0].priority, 5);
  EXPECT_TRUE(h.vlans.tag[0].dei);
  EXPECT_EQ(h.vlans.tag[0].ethertype, kEthertypeVlan);
  EXPECT_EQ(h.vlans.tag[1].id, 200);
  EXPECT_FALSE(h.vlans.tag[1].dei);
  EXPECT_EQ(h.ethertype, kEthertypeIpv4);
  EXPECT_EQ(h.header_length, 22u);
  // tcpdump -nn -e on the same frame.
  EXPECT_EQ(
      summary(h, 50),
      "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype 802.1Q-QinQ (0x88a8), length 50: "
      "vlan 100, p 5, DEI, ethertype 802.1Q (0x8100), vlan 200, p 0, ethertype IPv4 (0x0800)");
}

TEST(Ethernet, DescribeNamesTheFieldsAsTsharkWithTheirBytes) {
  dissect::Header out;
  describe(decode_ethernet(kQinQ), kQinQ, 100, out);
  EXPECT_EQ(out.protocol, "Ethernet II");
  EXPECT_EQ(out.offset, 100u);
  EXPECT_EQ(out.length, 22u);
  EXPECT_EQ(field_value(out, "eth.dst"), "02:00:00:00:00:02");
  EXPECT_EQ(field_value(out, "eth.src"), "02:00:00:00:00:01");
  EXPECT_EQ(field_value(out, "eth.type"), "0x88a8");
  EXPECT_EQ(find_field(out, "eth.src")->offset, 106u);
  EXPECT_EQ(find_field(out, "eth.type")->offset, 112u);
  // The 802.1ad service tag under Wireshark's own keys (its type under 802.1ah's name), the
  // 802.1Q customer tag inside it as vlan.*, as tshark -T json shows them.
  EXPECT_EQ(field_value(out, "ieee8021ad.id"), "100");
  EXPECT_EQ(field_value(out, "ieee8021ad.priority"), "5");
  EXPECT_EQ(field_value(out, "ieee8021ad.dei"), "1");
  EXPECT_EQ(field_value(out, "ieee8021ah.etype"), "0x8100");
  EXPECT_EQ(field_value(out, "vlan.id"), "200");
  EXPECT_EQ(field_value(out, "vlan.etype"), "0x0800");
  EXPECT_EQ(find_field(out, "vlan.id", 1), nullptr);
  EXPECT_EQ(find_field(out, "vlan.etype")->offset, 120u);
  EXPECT_EQ(find_field(out, "vlan.etype")->meaning, "IPv4");
  EXPECT_EQ(out.problem, "");
}

TEST(Ethernet, ALengthBelow0x0600Is802Dot3WithLlcAndCutsThePadding) {
  // 802.3 frame carrying 3 bytes of LLC (STP's DSAP/SSAP 0x42, UI), padded to 46 bytes.
  Bytes frame{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
              0x00, 0x00, 0x01, 0x00, 0x03, 0x42, 0x42, 0x03};
  frame.resize(60, 0);
  const auto h = decode_ethernet(frame);
  EXPECT_FALSE(h.problem);
  EXPECT_TRUE(h.is_8023_length());
  EXPECT_EQ(h.ethertype, 0);
  EXPECT_EQ(h.header_length, 14u);
  EXPECT_EQ(h.payload_length, 3u);
  dissect::Header out;
  describe(h, frame, 0, out);
  EXPECT_EQ(out.protocol, "IEEE 802.3 Ethernet");
  EXPECT_EQ(field_value(out, "eth.len"), "3");
  EXPECT_EQ(find_field(out, "eth.len")->meaning, "802.3 length, LLC follows");
}

TEST(Ethernet, EveryTruncatedPrefixReportsTruncated) {
  for (std::size_t n = 0; n < kQinQ.size() - 2; ++n) {
    const std::span<const std::uint8_t> prefix(kQinQ.data(), n);
    const auto h = decode_ethernet(prefix);
    EXPECT_EQ(h.problem.kind, dissect::Problem::Kind::truncated) << n;
    dissect::Header out;
    describe(h, prefix, 0, out);
    EXPECT_NE(out.problem, "") << n;
  }
}

TEST(Ethernet, AFrameCutInsideATagKeepsItsPriorityAndId) {
  // 16 bytes: the 802.1ad TCI was captured, its type not (tshark shows the same three).
  const std::span<const std::uint8_t> prefix(kQinQ.data(), 16);
  const auto h = decode_ethernet(prefix);
  dissect::Header out;
  describe(h, prefix, 0, out);
  EXPECT_EQ(field_value(out, "ieee8021ad.priority"), "5");
  EXPECT_EQ(field_value(out, "ieee8021ad.dei"), "1");
  EXPECT_EQ(field_value(out, "ieee8021ad.id"), "100");
  EXPECT_EQ(find_field(out, "ieee8021ah.etype"), nullptr);
  EXPECT_EQ(out.problem, "truncated at byte 14 of the header: a VLAN tag needs 4 bytes");
}

TEST(Ethernet, MoreThanFourNestedTagsIsMalformed) {
  Bytes frame(12, 0x02);
  for (int i = 0; i < 6; ++i) frame.insert(frame.end(), {0x81, 0x00, 0x00, 0x01});
  frame.insert(frame.end(), {0x08, 0x00});
  const auto h = decode_ethernet(frame);
  EXPECT_EQ(h.problem.kind, dissect::Problem::Kind::malformed);
  EXPECT_EQ(h.problem.at, 30u);  // where the fifth tag would start
}

TEST(Sll, DecodesTheCookedHeaderOfAnyInterface) {
  const auto h = decode_sll(kSll);
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.packet_type, CookedHeader::outgoing);
  EXPECT_EQ(h.hardware_type, 1);
  EXPECT_EQ(h.address_length, 6);
  EXPECT_EQ(h.protocol, kEthertypeIpv4);
  EXPECT_EQ(h.ethertype, kEthertypeIpv4);
  EXPECT_EQ(h.header_length, 16u);
  EXPECT_EQ(h.payload_length, 2u);
  EXPECT_EQ(summary(h, 44), "Out 02:00:00:00:00:01 ethertype IPv4 (0x0800), length 44");
  dissect::Header out;
  describe(h, kSll, 0, out);
  EXPECT_EQ(out.protocol, "Linux cooked capture v1");
  EXPECT_EQ(field_value(out, "sll.pkttype"), "4");
  EXPECT_EQ(field_value(out, "sll.hatype"), "1");
  EXPECT_EQ(field_value(out, "sll.halen"), "6");
  EXPECT_EQ(field_value(out, "sll.src.eth"), "02:00:00:00:00:01");
  EXPECT_EQ(field_value(out, "sll.unused"), "00:00");
  EXPECT_EQ(field_value(out, "sll.etype"), "0x0800");
  EXPECT_EQ(find_field(out, "sll.etype")->offset, 14u);
}

TEST(Sll2, DecodesTheInterfaceIndexAndItsOwnFieldOrder) {
  const auto h = decode_sll2(kSll2);
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.version, 2);
  EXPECT_EQ(h.protocol, kEthertypeIpv6);
  EXPECT_EQ(h.interface_index, 2u);
  EXPECT_EQ(h.hardware_type, 1);
  EXPECT_EQ(h.packet_type, CookedHeader::host);
  EXPECT_EQ(h.header_length, 20u);
  EXPECT_EQ(summary(h, 68), "In ifindex 2 02:00:00:00:00:01 ethertype IPv6 (0x86dd), length 68");
  dissect::Header out;
  describe(h, kSll2, 0, out);
  EXPECT_EQ(field_value(out, "sll.ifindex"), "2");
  EXPECT_EQ(find_field(out, "sll.ifindex")->offset, 4u);
  EXPECT_EQ(field_value(out, "sll.etype"), "0x86dd");
  EXPECT_EQ(field_value(out, "sll.src.eth"), "02:00:00:00:00:01");
  EXPECT_EQ(find_field(out, "sll.pkttype")->length, 1u);
}

TEST(Sll, AVlanTagAfterTheCookedHeaderIsDecodedToo) {
  Bytes frame(kSll.begin(), kSll.begin() + 14);
  frame.insert(frame.end(), {0x81, 0x00, 0x00, 0x07, 0x86, 0xdd});
  const auto h = decode_sll(frame);
  EXPECT_FALSE(h.problem);
  EXPECT_EQ(h.vlans.count, 1);
  EXPECT_EQ(h.vlans.tag[0].id, 7);
  EXPECT_EQ(h.ethertype, kEthertypeIpv6);
  EXPECT_EQ(h.header_length, 20u);
}

TEST(Sll, EveryTruncatedPrefixReportsTruncated) {
  for (std::size_t n = 0; n < 16; ++n) {
    const std::span<const std::uint8_t> prefix(kSll.data(), n);
    EXPECT_EQ(decode_sll(prefix).problem.kind, dissect::Problem::Kind::truncated) << n;
    dissect::Header out;
    describe(decode_sll(prefix), prefix, 0, out);
  }
  for (std::size_t n = 0; n < 20; ++n) {
    const std::span<const std::uint8_t> prefix(kSll2.data(), n);
    EXPECT_EQ(decode_sll2(prefix).problem.kind, dissect::Problem::Kind::truncated) << n;
    dissect::Header out;
    describe(decode_sll2(prefix), prefix, 0, out);
    EXPECT_NE(out.problem, "");
  }
}

}  // namespace
}  // namespace duplex::link
