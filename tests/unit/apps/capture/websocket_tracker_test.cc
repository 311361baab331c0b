// WebSocket in the capture: a conversation becomes WebSocket after an Upgrade request and its
// 101 answer; then its payloads are frames, several per segment, and a frame split across
// segments is told as such (never its payload read as a header).
#include "duplex/apps/capture/websocket_tracker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "duplex/apps/capture/line_output.h"

namespace duplex::capture {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint32_t kClientIsn = 1000;
constexpr std::uint32_t kServerIsn = 5000;

void put16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}

// A raw IPv4 packet (DLT_RAW) with a TCP header and `payload`; checksums left at 0.
Bytes raw(bool from_client, std::uint32_t seq, const std::string& payload) {
  Bytes b(40 + payload.size(), 0);
  for (std::size_t i = 0; i < payload.size(); ++i)
    b[40 + i] = static_cast<std::uint8_t>(payload[i]);
  b[0] = 0x45;
  put16(&b[2], static_cast<std::uint32_t>(40 + payload.size()));
  b[8] = 64;
  b[9] = 6;
  const std::uint8_t client[4] = {10, 0, 0, 1}, server[4] = {10, 0, 0, 2};
  std::copy_n(from_client ? client : server, 4, &b[12]);
  std::copy_n(from_client ? server : client, 4, &b[16]);
  put16(&b[20], from_client ? 40000 : 80);
  put16(&b[22], from_client ? 80 : 40000);
  put32(&b[24], seq);
  b[32] = 0x50;
  b[33] = 0x18;  // PSH, ACK
  put16(&b[34], 512);
  return b;
}

const std::string kUpgrade =
    "GET /ws HTTP/1.1\r\nHost: b.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const std::string kSwitching =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRrK+xOo=\r\n\r\n";

struct Session {
  WebSocketTracker tracker;
  LineFormatter lines;
  DecodedPacket last;
  Bytes bytes;
  std::string line;
  std::vector<dissect::Header> headers;
  void feed(Bytes b) {
    bytes = std::move(b);
    last = decode_packet(kLinkRaw, bytes, 0);
    tracker.follow(last, bytes);
    line.clear();
    lines.append_summary(line, last, bytes);
    headers = describe_packet(last, bytes);
  }
  std::vector<std::string> protocols() const {
    std::vector<std::string> v;
    for (const auto& h : headers) v.push_back(h.protocol);
    return v;
  }
  std::string value(std::size_t header, const std::string& key) const {
    for (const auto& f : headers.at(header).fields)
      if (f.key == key) return f.value;
    return "(none)";
  }
  void upgrade() {
    feed(raw(true, kClientIsn, kUpgrade));
    feed(raw(false, kServerIsn, kSwitching));
  }
};

std::string masked(const std::string& text, const std::string& key) {
  std::string s = text;
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(s[i] ^ key[i % 4]);
  return s;
}

TEST(WebSocketTracker, AfterTheUpgradeASegmentIsFramesSeveralAtOnce) {
  Session r;
  r.upgrade();
  EXPECT_EQ(r.tracker.upgraded(), 1u);
  EXPECT_FALSE(r.last.has(Protocol::websocket));  // the 101 itself is HTTP
  r.feed(raw(false, kServerIsn + static_cast<std::uint32_t>(kSwitching.size()),
             std::string("\x81\x05Hello\x89\x00", 9)));
  EXPECT_EQ(r.protocols(), (std::vector<std::string>{"IPv4", "TCP", "WebSocket", "WebSocket"}));
  EXPECT_EQ(r.value(2, "websocket.opcode"), "1");
  EXPECT_EQ(r.value(2, "websocket.fin"), "1");
  EXPECT_EQ(r.value(2, "websocket.mask"), "0");
  EXPECT_EQ(r.value(2, "websocket.payload_length"), "5");
  EXPECT_EQ(r.value(2, "websocket.payload.text"), "Hello");
  EXPECT_EQ(r.value(3, "websocket.opcode"), "9");
  EXPECT_EQ(r.headers[3].offset, 40u + 7);
  EXPECT_NE(r.line.find(": WebSocket Text [FIN], WebSocket Ping [FIN]"), std::string::npos)
      << r.line;
}

TEST(WebSocketTracker, AFrameSplitAcrossSegmentsIsToldNotGuessed) {
  Session r;
  r.upgrade();
  const std::string key = "\x37\xfa\x21\x3d";
  const std::string frame = "\x81\x85" + key + masked("Hello", key);
  std::uint32_t seq = kClientIsn + static_cast<std::uint32_t>(kUpgrade.size());
  // The client's masked text frame: its header and 3 payload bytes, then the other 2 and a
  // close frame (code 1000).
  r.feed(raw(true, seq, frame.substr(0, 9)));
  ASSERT_EQ(r.last.websocket_count, 1);
  EXPECT_TRUE(r.last.websocket[0].continues);
  EXPECT_EQ(r.value(2, "websocket.masking_key"), "37:fa:21:3d");
  EXPECT_EQ(r.value(2, "websocket.payload.text"), "Hel");
  seq += 9;
  const std::string close =
      std::string("\x88\x82", 2) + key + masked(std::string("\x03\xe8", 2), key);
  r.feed(raw(true, seq, frame.substr(9) + close));
  EXPECT_EQ(r.protocols(), (std::vector<std::string>{"IPv4", "TCP", "WebSocket", "WebSocket"}));
  EXPECT_EQ(r.value(2, "websocket.continued"), "2 bytes");
  EXPECT_EQ(r.value(2, "websocket.opcode"), "(none)");  // no header read from payload bytes
  EXPECT_EQ(r.value(3, "websocket.opcode"), "8");
  EXPECT_EQ(r.value(3, "websocket.payload.close.status_code"), "1000");
  EXPECT_NE(r.line.find("WebSocket continued payload, 2 bytes, WebSocket Connection Close"),
            std::string::npos)
      << r.line;
  // The same segment again (a retransmission) is decoded as it was the first time.
  r.feed(raw(true, seq, frame.substr(9) + close));
  EXPECT_EQ(r.protocols(), (std::vector<std::string>{"IPv4", "TCP", "WebSocket", "WebSocket"}));
  EXPECT_EQ(r.value(2, "websocket.continued"), "2 bytes");
  // After a gap (a segment not captured) where frames start is not known: told, not guessed.
  r.feed(raw(true, seq + 10 + 7, std::string("\x81\x01x", 3)));
  EXPECT_EQ(r.protocols(), (std::vector<std::string>{"IPv4", "TCP", "WebSocket"}));
  EXPECT_EQ(r.value(2, "websocket.unknown_data"), "3 bytes");
  EXPECT_EQ(r.value(2, "websocket.opcode"), "(none)");
}

TEST(WebSocketTracker, FramesBehindThe101InItsSegmentAreDecoded) {
  Session r;
  r.feed(raw(true, kClientIsn, kUpgrade));
  r.feed(raw(false, kServerIsn, kSwitching + std::string("\x81\x02hi", 4)));
  EXPECT_EQ(r.protocols(), (std::vector<std::string>{"IPv4", "TCP", "HTTP", "WebSocket"}));
  EXPECT_EQ(r.headers[2].length, kSwitching.size());
  EXPECT_EQ(r.value(3, "websocket.payload.text"), "hi");
  r.feed(raw(false, kServerIsn + static_cast<std::uint32_t>(kSwitching.size()) + 4,
             std::string("\x89\x00", 2)));
  EXPECT_EQ(r.value(2, "websocket.opcode"), "9");
}

TEST(WebSocketTracker, AFrameOverThreeSegmentsHasAMiddleOfPayloadOnly) {
  Session r;
  r.upgrade();
  std::uint32_t seq = kServerIsn + static_cast<std::uint32_t>(kSwitching.size());
  // A binary frame of 300 bytes (16-bit length): 4 header bytes and 96, then 100, then 104
  // and a ping.
  r.feed(raw(false, seq, std::string("\x82\x7e\x01\x2c", 4) + std::string(96, 'a')));
  EXPECT_EQ(r.value(2, "websocket.payload_length_ext_16"), "300");
  r.feed(raw(false, seq += 100, std::string(100, 'b')));
  EXPECT_EQ(r.protocols(), (std::vector<std::string>{"IPv4", "TCP", "WebSocket"}));
  EXPECT_EQ(r.value(2, "websocket.continued"), "100 bytes");
  r.feed(raw(false, seq += 100, std::string(104, 'c') + std::string("\x89\x00", 2)));
  EXPECT_EQ(r.protocols(), (std::vector<std::string>{"IPv4", "TCP", "WebSocket", "WebSocket"}));
  EXPECT_EQ(r.value(2, "websocket.continued"), "104 bytes");
  EXPECT_EQ(r.value(3, "websocket.opcode"), "9");
}

TEST(WebSocketTracker, AHeaderSplitAcrossSegmentsLosesTheBoundary) {
  Session r;
  r.upgrade();
  std::uint32_t seq = kServerIsn + static_cast<std::uint32_t>(kSwitching.size());
  r.feed(raw(false, seq, std::string("\x82\x7e\x01", 3)));  // a 16-bit length, cut after a byte
  ASSERT_EQ(r.last.websocket_count, 1);
  EXPECT_EQ(r.value(2, "websocket.header_split"), "split");
  EXPECT_NE(r.line.find("[header split across segments]"), std::string::npos) << r.line;
  r.feed(raw(false, seq + 3, std::string(3, 'x')));
  EXPECT_TRUE(r.last.websocket_unknown);
  EXPECT_NE(r.line.find("WebSocket data at no known frame start"), std::string::npos) << r.line;
}

TEST(WebSocketTracker, AFrameThatStartsPastTheSnapLengthIsPlacedAtTheCapturesEnd) {
  // 7 payload bytes on the wire, 2 captured; the segment ends a frame with its first 3 (a
  // fuzzer's find): the next frame's header was not captured, and its empty layer must not
  // point past the capture.
  const Bytes whole = raw(false, kServerIsn, std::string("ab\x81\x02xyz", 7));
  const Bytes cut(whole.begin(), whole.begin() + 42);
  DecodedPacket p = decode_packet(kLinkRaw, cut, static_cast<std::uint32_t>(whole.size()));
  EXPECT_EQ(decode_websocket_payload(p, cut, 3), 0u);  // the boundary after it is lost
  ASSERT_TRUE(p.has(Protocol::websocket));
  for (std::uint8_t i = 0; i < p.layer_count; ++i)
    EXPECT_LE(std::size_t{p.layers[i].offset} + p.layers[i].available, cut.size()) << int{i};
  for (const auto& h : describe_packet(p, cut))
    EXPECT_LE(std::size_t{h.offset} + h.length, cut.size()) << h.protocol;
  EXPECT_EQ(p.problem.kind, dissect::Problem::Kind::truncated);
}

TEST(WebSocketTracker, WithoutA101TheSameBytesAreNoFrames) {
  Session r;
  r.feed(raw(true, kClientIsn, kUpgrade));
  r.feed(raw(false, kServerIsn, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
  r.feed(raw(false, kServerIsn + 47, std::string("\x81\x05Hello", 7)));
  EXPECT_FALSE(r.last.has(Protocol::websocket));
  EXPECT_EQ(r.tracker.upgraded(), 0u);
  // And a conversation that never asked is not even followed.
  Session other;
  other.feed(raw(false, kServerIsn, kSwitching));
  other.feed(raw(false, kServerIsn + 200, std::string("\x81\x05Hello", 7)));
  EXPECT_FALSE(other.last.has(Protocol::websocket));
}

}  // namespace
}  // namespace duplex::capture
