// The TCP tracker behind --stats and --flow: handshake RTT, retransmissions (sequence numbers
// wrap), relative numbers, bytes each way; and the flow diagram's arrows.
#include "duplex/apps/capture/tcp_tracker.h"

#include <gtest/gtest.h>

#include <string>

#include "duplex/apps/capture/capture_stats.h"
#include "duplex/apps/capture/flow_diagram.h"

namespace duplex::capture {
namespace {

using transport::kTcpAck;
using transport::kTcpFin;
using transport::kTcpPsh;
using transport::kTcpSyn;

const auto kClient = inet::Address::parse("10.0.0.1");
const auto kServer = inet::Address::parse("10.0.0.2");

// A decoded IPv4/TCP packet, as the chain would leave it.
DecodedPacket segment(bool from_client, std::uint32_t seq, std::uint32_t ack, std::uint16_t flags,
                      std::uint32_t payload = 0) {
  DecodedPacket p;
  p.layers[0] = {Protocol::ipv4, 0, 40 + payload};
  p.layers[1] = {Protocol::tcp, 20, 20 + payload};
  p.layer_count = 2;
  p.length = p.captured = 40 + payload;
  p.ip_protocol = 6;
  p.ipv4.source = from_client ? kClient : kServer;
  p.ipv4.destination = from_client ? kServer : kClient;
  p.tcp.source_port = from_client ? 40000 : 7000;
  p.tcp.destination_port = from_client ? 7000 : 40000;
  p.tcp.sequence = seq;
  p.tcp.acknowledgment = ack;
  p.tcp.flags = flags;
  p.tcp.header_length = 20;
  p.tcp.payload_length = payload;
  return p;
}

TEST(TcpTracker, HandshakeRttIsSynToTheClientsAck) {
  TcpTracker t;
  t.add(segment(true, 100, 0, kTcpSyn), 1.0);
  t.add(segment(false, 900, 101, kTcpSyn | kTcpAck), 1.010);
  t.add(segment(true, 101, 901, kTcpAck), 1.025);
  ASSERT_EQ(t.conversations().size(), 1u);
  const auto& c = t.conversations().begin()->second;
  ASSERT_TRUE(c.handshake_rtt());
  EXPECT_NEAR(*c.handshake_rtt(), 0.025, 1e-9);
  EXPECT_TRUE(c.client_is_first);
}

TEST(TcpTracker, DataSeenBeforeIsARetransmissionAcrossTheWrap) {
  TcpTracker t;
  const std::uint32_t isn = 0xfffffff0u;  // the data wraps past 2^32
  t.add(segment(true, isn, 0, kTcpSyn), 0);
  t.add(segment(false, 5, isn + 1, kTcpSyn | kTcpAck), 0);
  auto first = t.add(segment(true, isn + 1, 6, kTcpAck | kTcpPsh, 100), 0);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->retransmission);
  EXPECT_EQ(first->relative_seq, 1u);
  EXPECT_EQ(first->relative_ack, 1u);
  auto again = t.add(segment(true, isn + 1, 6, kTcpAck | kTcpPsh, 100), 0);
  EXPECT_TRUE(again->retransmission);
  auto next = t.add(segment(true, isn + 101, 6, kTcpAck | kTcpPsh, 50), 0);
  EXPECT_FALSE(next->retransmission);
  EXPECT_EQ(next->relative_seq, 101u);
  const auto& c = t.conversations().begin()->second;
  EXPECT_EQ(c.direction[0].retransmissions, 1u);
  EXPECT_EQ(c.direction[0].payload_bytes, 150u);  // the retransmitted copy counts once
  EXPECT_EQ(c.direction[0].packets, 4u);
}

TEST(TcpTracker, ARepeatedSynIsARetransmission) {
  TcpTracker t;
  t.add(segment(true, 100, 0, kTcpSyn), 0);
  EXPECT_TRUE(t.add(segment(true, 100, 0, kTcpSyn), 1)->retransmission);
}

TEST(CaptureStats, CountsLayersProtocolsTalkersAndConversations) {
  CaptureStats s;
  s.add(segment(true, 100, 0, kTcpSyn), {10, 0});
  s.add(segment(false, 900, 101, kTcpSyn | kTcpAck), {10, 1000});
  s.add(segment(true, 101, 901, kTcpAck), {10, 2000});
  s.add(segment(true, 101, 901, kTcpAck | kTcpPsh | kTcpFin, 5), {10, 3000});
  EXPECT_EQ(s.total().packets, 4u);
  EXPECT_EQ(s.total().bytes, 165u);
  EXPECT_EQ(s.protocol(Protocol::tcp).packets, 4u);
  EXPECT_EQ(s.layer(dissect::Layer::transport).packets, 4u);
  EXPECT_EQ(s.layer(dissect::Layer::link).packets, 0u);
  const auto report = s.report();
  EXPECT_NE(report.find("4 packets, 165 bytes in 0.003000 s\n"), std::string::npos) << report;
  EXPECT_NE(report.find("10.0.0.1:40000 <-> 10.0.0.2:7000  handshake RTT 2.000 ms\n"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("    10.0.0.1:40000 -> 3 packets, 5 bytes of data, FIN\n"),
            std::string::npos)
      << report;
}

TEST(FlowDiagram, ArrowsPointFromSenderToReceiver) {
  FlowDiagram f;
  f.add(segment(true, 100, 0, kTcpSyn), {}, {10, 0});
  f.add(segment(false, 900, 101, kTcpSyn | kTcpAck), {}, {10, 500});
  const auto text = f.render();
  EXPECT_NE(text.find("  0.000000 |--40000\u21927000 [SYN] seq=0 len=0"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  0.000500 |<-7000\u219240000 [SYN, ACK] seq=0 ack=1 len=0"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.rfind("time (s)   10.0.0.1", 0), 0u) << text;
}

}  // namespace
}  // namespace duplex::capture
