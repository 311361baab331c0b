// ARP as duplex capture shows it: from the ARP bytes on, after any link header, every kind of
// ARP; compared with tshark's fields and tcpdump's lines on the same bytes (made with scapy).
#include <gtest/gtest.h>

#include "../dissect_fields.h"

#include <string>
#include <vector>

#include "duplex/link/arp_frame.h"
#include "duplex/link/ethernet.h"

namespace duplex::link {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::field_value;

// scapy: ARP(op=2, hwsrc=02:..:02, psrc=10.0.0.2, hwdst=02:..:01, pdst=10.0.0.1), the body.
const Bytes kReply{0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00,
                   0x00, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x02, 0x02, 0x00,
                   0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01};

Bytes with_opcode(std::uint8_t op, Bytes body = kReply) {
  body[7] = op;
  return body;
}

TEST(ArpHeader, DecodesAReplyWithEveryFieldAsTsharkNamesIt) {
  const auto h = decode_arp(kReply);
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.hardware_type, 1);
  EXPECT_EQ(h.protocol_type, 0x0800);
  EXPECT_EQ(h.hardware_length, 6);
  EXPECT_EQ(h.protocol_length, 4);
  EXPECT_EQ(h.opcode, 2);
  EXPECT_TRUE(h.ipv4_over_ethernet);
  EXPECT_EQ(h.header_length, 28u);
  dissect::Header out;
  describe(h, kReply, 14, out);
  EXPECT_EQ(out.protocol, "ARP");
  EXPECT_EQ(out.offset, 14u);
  EXPECT_EQ(out.length, 28u);
  // tshark -T json on the same frame.
  EXPECT_EQ(field_value(out, "arp.hw.type"), "1");
  EXPECT_EQ(field_value(out, "arp.proto.type"), "0x0800");
  EXPECT_EQ(field_value(out, "arp.hw.size"), "6");
  EXPECT_EQ(field_value(out, "arp.proto.size"), "4");
  EXPECT_EQ(field_value(out, "arp.opcode"), "2");
  EXPECT_EQ(field_value(out, "arp.src.hw_mac"), "02:00:00:00:00:02");
  EXPECT_EQ(field_value(out, "arp.src.proto_ipv4"), "10.0.0.2");
  EXPECT_EQ(field_value(out, "arp.dst.hw_mac"), "02:00:00:00:00:01");
  EXPECT_EQ(field_value(out, "arp.dst.proto_ipv4"), "10.0.0.1");
  EXPECT_EQ(out.fields.back().offset, 14u + 24);
  EXPECT_EQ(out.fields.back().length, 4u);
  EXPECT_EQ(summary(h, 28), "Reply 10.0.0.2 is-at 02:00:00:00:00:02, length 28");
}

TEST(ArpHeader, SummariesReadAsTcpdumpsForEveryOpcode) {
  // tcpdump -nn on scapy's frames of each opcode, the same addresses as kReply.
  Bytes request = with_opcode(1);
  std::fill(request.begin() + 18, request.begin() + 24, 0);  // target MAC unknown
  EXPECT_EQ(summary(decode_arp(request), 28), "Request who-has 10.0.0.1 tell 10.0.0.2, length 28");
  EXPECT_EQ(summary(decode_arp(with_opcode(1)), 28),
            "Request who-has 10.0.0.1 (02:00:00:00:00:01) tell 10.0.0.2, length 28");
  EXPECT_EQ(summary(decode_arp(with_opcode(3)), 28),
            "Reverse Request who-is 02:00:00:00:00:01 tell 02:00:00:00:00:02, length 28");
  EXPECT_EQ(summary(decode_arp(with_opcode(4)), 28),
            "Reverse Reply 02:00:00:00:00:01 at 10.0.0.1, length 28");
  EXPECT_EQ(summary(decode_arp(with_opcode(9)), 46),
            "Inverse Reply 02:00:00:00:00:02 at 10.0.0.2, length 46");
  EXPECT_EQ(summary(decode_arp(with_opcode(7)), 28), "Unknown ARP opcode 0x0007, length 28");
}

TEST(ArpHeader, DecodesTheBodyAfterAVlanTag) {
  Bytes frame{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00,
              0x00, 0x00, 0x02, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x06};
  frame.insert(frame.end(), kReply.begin(), kReply.end());
  const auto link = decode_ethernet(frame);
  ASSERT_EQ(link.ethertype, kEthertypeArp);
  const auto arp = decode_arp(std::span<const std::uint8_t>(frame).subspan(link.header_length));
  EXPECT_FALSE(arp.problem);
  EXPECT_EQ(arp.frame.sender_ip.to_string(), "10.0.0.2");
  dissect::Header out;
  describe(arp, std::span<const std::uint8_t>(frame).subspan(link.header_length),
           link.header_length, out);
  EXPECT_EQ(out.fields.back().offset, 18u + 24);
}

TEST(ArpHeader, OtherHardwareShowsItsAddressesAsBytes) {
  // Hand-written: hardware type 6 (IEEE 802), IPv4, request, MACs 0a:..., IPs 192.0.2.x.
  const Bytes body{0x00, 0x06, 0x08, 0x00, 6, 4, 0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
                   192,  0,    2,    1,    0, 0, 0,    0,    0,    0,    192,  0,    2,    2};
  const auto h = decode_arp(body);
  ASSERT_FALSE(h.problem);
  EXPECT_FALSE(h.ipv4_over_ethernet);
  dissect::Header out;
  describe(h, body, 0, out);
  EXPECT_EQ(field_value(out, "arp.src.hw"), "0a:0b:0c:0d:0e:0f");
  EXPECT_EQ(field_value(out, "arp.src.proto"), "c0:00:02:01");
  EXPECT_EQ(field_value(out, "arp.dst.proto"), "c0:00:02:02");
  EXPECT_EQ(summary(h, 28), "hardware type 6 (len 6), protocol 0x0800 (len 4), length 28");
}

TEST(ArpHeader, EveryTruncatedPrefixReportsTruncated) {
  for (std::size_t n = 0; n < kReply.size(); ++n) {
    const std::span<const std::uint8_t> prefix(kReply.data(), n);
    const auto h = decode_arp(prefix);
    EXPECT_EQ(h.problem.kind, dissect::Problem::Kind::truncated) << n;
    dissect::Header out;
    describe(h, prefix, 0, out);
    EXPECT_NE(out.problem, "") << n;
    EXPECT_FALSE(summary(h, static_cast<std::uint32_t>(n)).empty());
  }
}

TEST(ArpHeader, ATruncatedHeaderKeepsTheFixedFieldsThatWereCaptured) {
  // Six bytes: the types and sizes, not the opcode (tshark -T json shows the same four).
  const std::span<const std::uint8_t> prefix(kReply.data(), 6);
  const auto h = decode_arp(prefix);
  dissect::Header out;
  describe(h, prefix, 14, out);
  EXPECT_EQ(field_value(out, "arp.hw.type"), "1");
  EXPECT_EQ(field_value(out, "arp.proto.type"), "0x0800");
  EXPECT_EQ(field_value(out, "arp.hw.size"), "6");
  EXPECT_EQ(field_value(out, "arp.proto.size"), "4");
  EXPECT_EQ(test::find_field(out, "arp.proto.size")->offset, 19u);
  EXPECT_EQ(test::find_field(out, "arp.opcode"), nullptr);
  EXPECT_EQ(out.problem, "truncated at byte 6 of the header: the ARP header needs 8 bytes");
}

TEST(ArpHeader, TheExistingFrameCodecStillRejectsWhatItCannotAnswer) {
  // decode_arp shows a RARP body; ArpFrame::decode_body, which arp ping and watch use, still
  // refuses it.
  ArpFrame f;
  EXPECT_FALSE(decode_arp(with_opcode(3)).problem);
  EXPECT_EQ(ArpFrame::decode_body(with_opcode(3), f), ArpError::opcode);
}

}  // namespace
}  // namespace duplex::link
