#include "duplex/proto/websocket_frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "duplex/proto/websocket_utf8.h"

namespace duplex::websocket {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Event = FrameDecoder::Event;

const std::array<std::uint8_t, 4> kKey = {0x37, 0xfa, 0x21, 0x3d};  // RFC 6455 5.7's key

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes frame(Opcode op, const Bytes& payload, bool fin = true, bool masked = true) {
  std::string out;
  encode_frame(out, op, payload, fin, masked ? &kKey : nullptr);
  return bytes(out);
}

// Feeds `wire` to a decoder in one piece and returns the first event that is not need_more
// or header (or the header event if that is all there is).
FrameDecoder::Result first_outcome(FrameDecoder& d, const Bytes& wire) {
  std::span<const std::uint8_t> in(wire);
  FrameDecoder::Result r;
  do {
    r = d.next(in);
    in = in.subspan(r.consumed);
  } while (r.event == Event::header && !r.frame_end && !in.empty());
  return r;
}

FrameDecoder::Result decode_error(Role role, const Bytes& wire) {
  FrameDecoder d(role);
  return first_outcome(d, wire);
}

// --- encoder ---

TEST(WebSocketFrame, UnmaskedHelloIsTheRfcsExampleBytes) {
  EXPECT_EQ(frame(Opcode::text, bytes("Hello"), true, false),
            (Bytes{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
}

TEST(WebSocketFrame, MaskedHelloIsTheRfcsExampleBytes) {
  EXPECT_EQ(frame(Opcode::text, bytes("Hello")),
            (Bytes{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(WebSocketFrame, PayloadOf126BytesUsesThe16BitLength) {
  const auto wire = frame(Opcode::binary, Bytes(126, 0), true, false);
  EXPECT_EQ((Bytes{wire[0], wire[1], wire[2], wire[3]}), (Bytes{0x82, 126, 0x00, 126}));
  EXPECT_EQ(wire.size(), 4u + 126u);
}

TEST(WebSocketFrame, PayloadOver65535BytesUsesThe64BitLength) {
  const auto wire = frame(Opcode::binary, Bytes(65536, 0), true, false);
  EXPECT_EQ(wire[1], 127);
  EXPECT_EQ((Bytes(wire.begin() + 2, wire.begin() + 10)), (Bytes{0, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(WebSocketFrame, NonFinalFrameHasFinClear) {
  EXPECT_EQ(frame(Opcode::text, bytes("a"), false, false)[0], 0x01);
}

// --- masking ---

TEST(WebSocketFrame, MaskingInPiecesAtAnyOffsetEqualsMaskingAtOnce) {
  Bytes data(101);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  Bytes whole = data;
  apply_mask(whole, kKey, 0);
  for (std::size_t cut : {1u, 3u, 8u, 13u, 64u}) {
    Bytes pieces = data;
    apply_mask(std::span(pieces).first(cut), kKey, 0);
    apply_mask(std::span(pieces).subspan(cut), kKey, cut);
    EXPECT_EQ(pieces, whole) << "cut at " << cut;
  }
}

TEST(WebSocketFrame, MaskingTwiceRestoresThePayload) {
  Bytes data = bytes("a payload longer than one word of eight bytes");
  const Bytes original = data;
  apply_mask(data, kKey, 5);
  apply_mask(data, kKey, 5);
  EXPECT_EQ(data, original);
}

// --- decoder ---

TEST(WebSocketFrame, ServerDecodesAMaskedFrameHeaderAndPayload) {
  FrameDecoder d(Role::server);
  const auto wire = frame(Opcode::text, bytes("Hello"));
  auto r = d.next(wire);
  ASSERT_EQ(r.event, Event::header);
  EXPECT_EQ(r.consumed, 6u);
  EXPECT_TRUE(d.header().fin);
  EXPECT_EQ(d.header().opcode, Opcode::text);
  EXPECT_EQ(d.header().payload_length, 5u);
  r = d.next(std::span(wire).subspan(6));
  ASSERT_EQ(r.event, Event::payload);
  EXPECT_TRUE(r.frame_end);
  Bytes payload(r.payload.begin(), r.payload.end());
  apply_mask(payload, d.header().mask, r.offset);
  EXPECT_EQ(payload, bytes("Hello"));
}

TEST(WebSocketFrame, HeaderArrivingOneByteAtATimeIsAssembled) {
  FrameDecoder d(Role::server);
  const auto wire = frame(Opcode::binary, Bytes(70000, 1));
  FrameDecoder::Result r;
  std::size_t fed = 0;
  do {
    r = d.next(std::span(wire).subspan(fed, 1));
    fed += r.consumed;
  } while (r.event == Event::need_more);
  EXPECT_EQ(r.event, Event::header);
  EXPECT_EQ(fed, 14u);
  EXPECT_EQ(d.header().payload_length, 70000u);
}

TEST(WebSocketFrame, PayloadSplitAcrossReadsReportsItsOffset) {
  FrameDecoder d(Role::client);
  const auto wire = frame(Opcode::binary, Bytes(300, 9), true, false);
  d.next(std::span(wire).first(4));
  const auto first = d.next(std::span(wire).subspan(4, 100));
  const auto second = d.next(std::span(wire).subspan(104));
  EXPECT_EQ(first.offset, 0u);
  EXPECT_FALSE(first.frame_end);
  EXPECT_EQ(second.offset, 100u);
  EXPECT_EQ(second.payload.size(), 200u);
  EXPECT_TRUE(second.frame_end);
}

TEST(WebSocketFrame, EmptyFrameEndsAtItsHeader) {
  FrameDecoder d(Role::server);
  const auto r = d.next(frame(Opcode::ping, {}));
  EXPECT_EQ(r.event, Event::header);
  EXPECT_TRUE(r.frame_end);
}

TEST(WebSocketFrame, ServerRefusesAnUnmaskedFrame) {
  const auto r = decode_error(Role::server, frame(Opcode::text, bytes("x"), true, false));
  EXPECT_EQ(r.event, Event::error);
  EXPECT_EQ(r.code, CloseCode::protocol_error);
}

TEST(WebSocketFrame, ClientRefusesAMaskedFrame) {
  EXPECT_EQ(decode_error(Role::client, frame(Opcode::text, bytes("x"))).event, Event::error);
}

TEST(WebSocketFrame, ReservedBitWithoutExtensionIsAProtocolError) {
  auto wire = frame(Opcode::text, bytes("x"));
  wire[0] |= 0x40;  // RSV1, as permessage-deflate would set it
  const auto r = decode_error(Role::server, wire);
  EXPECT_EQ(r.event, Event::error);
  EXPECT_EQ(r.code, CloseCode::protocol_error);
}

TEST(WebSocketFrame, ReservedDataOpcodeIsAProtocolError) {
  auto wire = frame(Opcode::text, bytes("x"));
  wire[0] = 0x83;
  EXPECT_EQ(decode_error(Role::server, wire).event, Event::error);
}

TEST(WebSocketFrame, ReservedControlOpcodeIsAProtocolError) {
  auto wire = frame(Opcode::ping, {});
  wire[0] = 0x8b;
  EXPECT_EQ(decode_error(Role::server, wire).event, Event::error);
}

TEST(WebSocketFrame, ControlFrameOver125BytesIsAProtocolError) {
  EXPECT_EQ(decode_error(Role::server, frame(Opcode::ping, Bytes(126, 0))).event, Event::error);
}

TEST(WebSocketFrame, ControlFrameOf125BytesIsAccepted) {
  EXPECT_EQ(decode_error(Role::server, frame(Opcode::ping, Bytes(125, 0))).event, Event::payload);
}

TEST(WebSocketFrame, FragmentedControlFrameIsAProtocolError) {
  EXPECT_EQ(decode_error(Role::server, frame(Opcode::pong, bytes("x"), false)).event, Event::error);
}

TEST(WebSocketFrame, SixteenBitLengthUnder126IsAProtocolError) {
  const Bytes wire = {0x82, 0x80 | 126, 0x00, 0x05, 1, 2, 3, 4};
  EXPECT_EQ(decode_error(Role::server, wire).event, Event::error);
}

TEST(WebSocketFrame, SixtyFourBitLengthWithTopBitSetIsAProtocolError) {
  const Bytes wire = {0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4};
  EXPECT_EQ(decode_error(Role::server, wire).event, Event::error);
}

TEST(WebSocketFrame, ContinuationWithoutAMessageIsAProtocolError) {
  EXPECT_EQ(decode_error(Role::server, frame(Opcode::continuation, bytes("x"))).event,
            Event::error);
}

TEST(WebSocketFrame, NewMessageInsideAFragmentedOneIsAProtocolError) {
  FrameDecoder d(Role::server);
  first_outcome(d, frame(Opcode::text, bytes("a"), false));
  EXPECT_EQ(first_outcome(d, frame(Opcode::binary, bytes("b"))).event, Event::error);
}

TEST(WebSocketFrame, ControlFrameInsideAFragmentedMessageIsAllowed) {
  FrameDecoder d(Role::server);
  first_outcome(d, frame(Opcode::text, bytes("a"), false));
  EXPECT_EQ(first_outcome(d, frame(Opcode::ping, bytes("p"))).event, Event::payload);
  EXPECT_EQ(first_outcome(d, frame(Opcode::continuation, bytes("b"))).event, Event::payload);
  EXPECT_FALSE(d.in_message());
}

TEST(WebSocketFrame, DecoderStaysFailedAfterAnError) {
  FrameDecoder d(Role::server);
  first_outcome(d, frame(Opcode::text, bytes("x"), true, false));
  EXPECT_EQ(d.next(frame(Opcode::text, bytes("x"))).event, Event::error);
}

TEST(WebSocketFrame, CloseCodesThatMayBeSentAreValid) {
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999}) {
    EXPECT_TRUE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
  }
}

TEST(WebSocketFrame, CloseCodesReservedOrUnassignedAreInvalid) {
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000}) {
    EXPECT_FALSE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
  }
}

// --- UTF-8 ---

bool valid(std::string_view s) { return is_valid_utf8(bytes(s)); }

TEST(WebSocketUtf8, AsciiAndMultiByteTextIsValid) {
  EXPECT_TRUE(valid("plain ASCII text, longer than a word"));
  EXPECT_TRUE(valid("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // κόσμε
  EXPECT_TRUE(valid("\xf0\x9f\x98\x80"));                              // U+1F600
}

TEST(WebSocketUtf8, HighestCodePointIsValid) { EXPECT_TRUE(valid("\xf4\x8f\xbf\xbf")); }

TEST(WebSocketUtf8, CodePointAboveU10FFFFIsInvalid) { EXPECT_FALSE(valid("\xf4\x90\x80\x80")); }

TEST(WebSocketUtf8, OverlongFormsAreInvalid) {
  EXPECT_FALSE(valid("\xc0\xaf"));
  EXPECT_FALSE(valid("\xe0\x80\xaf"));
  EXPECT_FALSE(valid("\xf0\x80\x80\xaf"));
}

TEST(WebSocketUtf8, SurrogatesAreInvalid) {
  EXPECT_FALSE(valid("\xed\xa0\x80"));  // U+D800
  EXPECT_FALSE(valid("\xed\xbf\xbf"));  // U+DFFF
}

TEST(WebSocketUtf8, LoneContinuationByteIsInvalid) { EXPECT_FALSE(valid("ab\x80")); }

TEST(WebSocketUtf8, TruncatedSequenceIsIncomplete) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed(bytes("a\xe2\x82")));
  EXPECT_FALSE(v.complete());
}

TEST(WebSocketUtf8, CodePointSplitAcrossFeedsIsValid) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed(bytes("\xf0\x9f")));
  EXPECT_TRUE(v.feed(bytes("\x98")));
  EXPECT_TRUE(v.feed(bytes("\x80 and more")));
  EXPECT_TRUE(v.complete());
}

TEST(WebSocketUtf8, InvalidByteAfterAsciiRunIsFoundAtOnce) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed(bytes("0123456789abcdef\xff")));
  EXPECT_TRUE(v.failed());
}

}  // namespace
}  // namespace duplex::websocket
