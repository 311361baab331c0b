#include "duplex/link/arp_frame.h"

#include <gtest/gtest.h>

#include <vector>

namespace duplex::link {
namespace {

using inet::Address;

const MacAddress kMac = MacAddress::from_uint64(0x0200'0a0b'0c0dULL);
const MacAddress kPeer = MacAddress::from_uint64(0x0200'1122'3344ULL);
const Address kIp = Address::parse("10.99.0.1");
const Address kPeerIp = Address::parse("10.99.0.2");

// A request written out by hand from RFC 826's layout, as a capture shows it.
std::vector<std::uint8_t> request_bytes() {
  return {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // destination: broadcast
          0x02, 0x00, 0x0a, 0x0b, 0x0c, 0x0d,  // source
          0x08, 0x06,                          // ethertype ARP
          0x00, 0x01, 0x08, 0x00, 6,    4,     // Ethernet, IPv4, hlen, plen
          0x00, 0x01,                          // request
          0x02, 0x00, 0x0a, 0x0b, 0x0c, 0x0d,  // sender MAC
          10,   99,   0,    1,                 // sender IP
          0,    0,    0,    0,    0,    0,     // target MAC: unknown
          10,   99,   0,    2};                // target IP
}

ArpError decode(const std::vector<std::uint8_t>& bytes, ArpFrame& out) {
  return ArpFrame::decode(bytes, out);
}

TEST(ArpFrame, RequestEncodesAsRfc826LaysItOut) {
  const auto wire = ArpFrame::request(kMac, kIp, kPeerIp).encode();
  const auto expected = request_bytes();
  ASSERT_EQ(wire.size(), 60u);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), wire.begin()));
}

TEST(ArpFrame, EncodePadsToTheEthernetMinimumWithZeros) {
  const auto wire = ArpFrame::request(kMac, kIp, kPeerIp).encode();
  for (std::size_t i = ArpFrame::kLength; i < wire.size(); ++i) EXPECT_EQ(wire[i], 0) << i;
}

TEST(ArpFrame, DecodeReadsTheHandWrittenRequest) {
  ArpFrame f;
  ASSERT_EQ(decode(request_bytes(), f), ArpError::none);
  EXPECT_EQ(f.op, ArpOp::request);
  EXPECT_TRUE(f.destination.is_broadcast());
  EXPECT_EQ(f.sender_mac, kMac);
  EXPECT_EQ(f.sender_ip, kIp);
  EXPECT_TRUE(f.target_mac.is_zero());
  EXPECT_EQ(f.target_ip, kPeerIp);
}

TEST(ArpFrame, DecodeGivesBackEveryBuilderFrame) {
  for (const auto& built :
       {ArpFrame::request(kMac, kIp, kPeerIp), ArpFrame::reply(kPeer, kPeerIp, kMac, kIp),
        ArpFrame::probe(kMac, kPeerIp), ArpFrame::gratuitous_request(kMac, kIp),
        ArpFrame::gratuitous_reply(kMac, kIp)}) {
    const auto wire = built.encode();
    ArpFrame back;
    ASSERT_EQ(ArpFrame::decode(wire, back), ArpError::none);
    EXPECT_EQ(back, built);
  }
}

TEST(ArpFrame, ReplyIsUnicastToTheAsker) {
  const auto f = ArpFrame::reply(kPeer, kPeerIp, kMac, kIp);
  EXPECT_EQ(f.op, ArpOp::reply);
  EXPECT_EQ(f.destination, kMac);
  EXPECT_EQ(f.target_mac, kMac);
  EXPECT_EQ(f.sender_ip, kPeerIp);
}

TEST(ArpFrame, ProbeCarriesSenderIpZeroAsRfc5227Asks) {
  const auto f = ArpFrame::probe(kMac, kPeerIp);
  EXPECT_EQ(f.sender_ip, Address::v4(0));
  EXPECT_TRUE(f.target_mac.is_zero());
  EXPECT_TRUE(f.is_probe());
  EXPECT_FALSE(f.is_gratuitous());
}

TEST(ArpFrame, GratuitousFramesAnnounceTheSenderAsTarget) {
  EXPECT_TRUE(ArpFrame::gratuitous_request(kMac, kIp).is_gratuitous());
  const auto r = ArpFrame::gratuitous_reply(kMac, kIp);
  EXPECT_TRUE(r.is_gratuitous());
  EXPECT_TRUE(r.destination.is_broadcast());
  EXPECT_EQ(r.target_mac, kMac);
  EXPECT_FALSE(ArpFrame::request(kMac, kIp, kPeerIp).is_gratuitous());
}

TEST(ArpFrame, SenderMismatchComparesEthernetSourceWithArpSender) {
  auto f = ArpFrame::reply(kPeer, kPeerIp, kMac, kIp);
  EXPECT_FALSE(f.sender_mismatch());
  f.source = kMac;
  EXPECT_TRUE(f.sender_mismatch());
}

TEST(ArpFrame, DecodeAcceptsPaddingAfterTheArpBody) {
  auto bytes = request_bytes();
  bytes.resize(60, 0xee);
  ArpFrame f;
  EXPECT_EQ(decode(bytes, f), ArpError::none);
}

TEST(ArpFrame, DecodeRejectsAFrameShorterThanTheEthernetHeader) {
  auto bytes = request_bytes();
  bytes.resize(13);
  ArpFrame f;
  EXPECT_EQ(decode(bytes, f), ArpError::truncated_ethernet);
}

TEST(ArpFrame, DecodeRejectsAnotherEthertype) {
  auto bytes = request_bytes();
  bytes[12] = 0x08;
  bytes[13] = 0x00;  // IPv4
  ArpFrame f;
  EXPECT_EQ(decode(bytes, f), ArpError::not_arp);
}

TEST(ArpFrame, DecodeRejectsEveryTruncationOfTheArpBody) {
  for (std::size_t n = 14; n < ArpFrame::kLength; ++n) {
    auto bytes = request_bytes();
    bytes.resize(n);
    ArpFrame f;
    EXPECT_EQ(decode(bytes, f), ArpError::truncated_arp) << n << " bytes";
  }
}

TEST(ArpFrame, DecodeRejectsAHardwareTypeOtherThanEthernet) {
  auto bytes = request_bytes();
  bytes[15] = 6;  // IEEE 802 networks
  ArpFrame f;
  EXPECT_EQ(decode(bytes, f), ArpError::hardware_type);
}

TEST(ArpFrame, DecodeRejectsAProtocolTypeOtherThanIpv4) {
  auto bytes = request_bytes();
  bytes[16] = 0x86;
  bytes[17] = 0xdd;
  ArpFrame f;
  EXPECT_EQ(decode(bytes, f), ArpError::protocol_type);
}

TEST(ArpFrame, DecodeRejectsAddressLengthsThatContradictThePtypeAndHtype) {
  auto bytes = request_bytes();
  bytes[18] = 8;  // EUI-64 hardware address
  ArpFrame f;
  EXPECT_EQ(decode(bytes, f), ArpError::hardware_length);
  bytes = request_bytes();
  bytes[19] = 16;  // an IPv6 length under ptype IPv4
  EXPECT_EQ(decode(bytes, f), ArpError::protocol_length);
}

TEST(ArpFrame, DecodeRejectsRarpAndUnknownOpcodes) {
  for (int op : {0, 3, 4, 8, 9}) {
    auto bytes = request_bytes();
    bytes[21] = static_cast<std::uint8_t>(op);
    ArpFrame f;
    EXPECT_EQ(decode(bytes, f), ArpError::opcode) << op;
  }
}

TEST(ArpFrame, EveryErrorHasAReason) {
  for (auto e : {ArpError::truncated_ethernet, ArpError::not_arp, ArpError::truncated_arp,
                 ArpError::hardware_type, ArpError::protocol_type, ArpError::hardware_length,
                 ArpError::protocol_length, ArpError::opcode})
    EXPECT_NE(to_string(e), to_string(ArpError::none));
}

}  // namespace
}  // namespace duplex::link
