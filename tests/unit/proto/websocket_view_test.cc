// WebSocket frames from RFC 6455 5.7 and made by hand, checked with
// tshark -d tcp.port==8080,websocket on the same bytes.
#include "duplex/proto/websocket_view.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../dissect_fields.h"

namespace duplex::websocket {
namespace {

using Bytes = std::vector<std::uint8_t>;
using dissect::Problem;
using test::field_value;
using test::find_field;
using test::from_hex;

const Bytes kText = from_hex("810548656c6c6f");                // RFC 6455 5.7: "Hello"
const Bytes kMaskedText = from_hex("818537fa213d7f9f4d5158");  // the same, masked
// Close 1000 "bye", masked with 01 02 03 04.
const Bytes kClose = from_hex("88850102030402ea617d64");

TEST(WebSocketView, DecodesAnUnmaskedTextFrame) {
  const auto f = decode_websocket(kText);
  ASSERT_FALSE(f.problem) << f.problem.what;
  EXPECT_TRUE(f.header.fin);
  EXPECT_EQ(f.header.opcode, Opcode::text);
  EXPECT_FALSE(f.header.masked);
  EXPECT_EQ(f.header_length, 2u);
  EXPECT_EQ(f.payload_captured, 5u);
  EXPECT_EQ(summary(f), "WebSocket Text [FIN]");  // tshark's Info
  dissect::Header out;
  describe(f, kText, 66, out);
  EXPECT_EQ(out.protocol, "WebSocket");
  EXPECT_EQ(field_value(out, "websocket.fin"), "1");
  EXPECT_EQ(field_value(out, "websocket.opcode"), "1");
  EXPECT_EQ(find_field(out, "websocket.opcode")->meaning, "Text");
  EXPECT_EQ(field_value(out, "websocket.mask"), "0");
  EXPECT_EQ(field_value(out, "websocket.payload_length"), "5");
  EXPECT_EQ(find_field(out, "websocket.masking_key"), nullptr);
  EXPECT_EQ(field_value(out, "websocket.payload.text"), "Hello");
  EXPECT_EQ(find_field(out, "websocket.payload.text")->offset, 68u);
}

TEST(WebSocketView, UnmasksAMaskedTextForItsPreview) {
  const auto f = decode_websocket(kMaskedText);
  ASSERT_FALSE(f.problem) << f.problem.what;
  EXPECT_TRUE(f.header.masked);
  EXPECT_EQ(f.header_length, 6u);
  EXPECT_EQ(summary(f), "WebSocket Text [FIN] [MASKED]");
  dissect::Header out;
  describe(f, kMaskedText, 0, out);
  EXPECT_EQ(field_value(out, "websocket.mask"), "1");
  EXPECT_EQ(field_value(out, "websocket.masking_key"), "37:fa:21:3d");
  EXPECT_EQ(field_value(out, "websocket.payload.text"), "Hello");
}

TEST(WebSocketView, ReadsACloseCodeAndReason) {
  const auto f = decode_websocket(kClose);
  ASSERT_FALSE(f.problem) << f.problem.what;
  EXPECT_TRUE(f.has_close_code);
  EXPECT_EQ(f.close_code, 1000);
  EXPECT_EQ(summary(f), "WebSocket Connection Close [FIN] [MASKED]");
  dissect::Header out;
  describe(f, kClose, 0, out);
  EXPECT_EQ(field_value(out, "websocket.payload.close.status_code"), "1000");
  EXPECT_EQ(field_value(out, "websocket.payload.close.reason"), "bye");
}

TEST(WebSocketView, ReadsExtendedLengthsAndAPayloadThatContinues) {
  // Binary, 256 bytes announced (RFC 6455 5.7), 4 of them in the segment.
  const Bytes binary = from_hex("827e010000010203");
  auto f = decode_websocket(binary);
  ASSERT_FALSE(f.problem) << f.problem.what;
  EXPECT_EQ(f.header.payload_length, 256u);
  EXPECT_EQ(f.header_length, 4u);
  EXPECT_EQ(f.payload_captured, 4u);
  EXPECT_TRUE(f.continues);
  dissect::Header out;
  describe(f, binary, 0, out);
  EXPECT_EQ(field_value(out, "websocket.payload_length"), "126");
  EXPECT_EQ(field_value(out, "websocket.payload_length_ext_16"), "256");
  // 64 KiB: a 64-bit length.
  const Bytes big = from_hex("827f0000000000010000");
  f = decode_websocket(big);
  ASSERT_FALSE(f.problem) << f.problem.what;
  EXPECT_EQ(f.header.payload_length, 65536u);
  out = {};
  describe(f, big, 0, out);
  EXPECT_EQ(field_value(out, "websocket.payload_length_ext_64"), "65536");
  // A long text shows its first 64 bytes.
  Bytes text = from_hex("817e00c8");
  text.insert(text.end(), 200, 'a');
  out = {};
  describe(decode_websocket(text), text, 0, out);
  EXPECT_EQ(field_value(out, "websocket.payload.text"), std::string(64, 'a'));
  EXPECT_EQ(find_field(out, "websocket.payload.text")->meaning, "the first 64 of 200 bytes");
}

TEST(WebSocketView, EveryPrefixCutByTheCaptureIsTruncated) {
  for (const Bytes* frame : {&kText, &kMaskedText, &kClose}) {
    const auto length = static_cast<std::uint32_t>(frame->size());
    for (std::size_t n = 0; n < frame->size(); ++n) {
      const std::span<const std::uint8_t> prefix(frame->data(), n);
      const auto f = decode_websocket(prefix, length);
      EXPECT_EQ(f.problem.kind, Problem::Kind::truncated) << n;
      dissect::Header out;
      describe(f, prefix, 0, out);
      EXPECT_NE(out.problem, "") << n;
      for (const auto& x : out.fields) EXPECT_LE(x.offset + x.length, n) << x.key;
      EXPECT_FALSE(summary(f).empty());
      // Not cut by the capture: the frame goes on in the next segment.
      EXPECT_TRUE(decode_websocket(prefix).continues) << n;
    }
  }
}

TEST(WebSocketView, BrokenFramingRulesAreMalformed) {
  const auto what = [](std::string_view hex) {
    const Bytes b = from_hex(hex);
    const auto f = decode_websocket(b);
    EXPECT_EQ(f.problem.kind, Problem::Kind::malformed) << hex;
    dissect::Header out;
    describe(f, b, 0, out);
    EXPECT_FALSE(summary(f).empty());
    return std::string(f.problem.what);
  };
  EXPECT_EQ(what("830100"), "a reserved opcode");
  EXPECT_EQ(what("090100"), "a fragmented control frame");
  EXPECT_EQ(what("897e0080"), "a control frame over 125 bytes");
  EXPECT_EQ(what("827e0005"), "a payload length not in its shortest form");
  EXPECT_EQ(what("827f8000000000000000"), "a 64-bit payload length with the top bit set");
  EXPECT_EQ(what("880103"), "a close payload of 1 byte (a code needs 2)");
}

}  // namespace
}  // namespace duplex::websocket
