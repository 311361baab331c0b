// Public. A WebSocket frame (RFC 6455 5.2) as `duplex capture` sees it at the start of a TCP
// segment, without heap allocation (the convention of base/dissect.h): the header read by
// websocket_frame's read_frame_header (FIN, RSV, opcode, mask, payload length, masking key),
// the close code, and an unmasked preview of a text payload. Stateless: it does not know
// whether the segment starts a frame (the chain decides, after an Upgrade).
//
// The framing rules that a receiver enforces (reserved opcodes, control frames over 125 bytes
// or fragmented, lengths not in their shortest form, a 64-bit length with its top bit set)
// are malformed here. A payload that goes on past the segment `continues`; past the capture
// (the snaplen) it is truncated.
// All functions are safe to call from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "duplex/base/dissect.h"
#include "duplex/proto/websocket_frame.h"

namespace duplex::websocket {

struct FrameView {
  static constexpr std::uint32_t kPreview = 64;  // text bytes shown by describe()
  FrameHeader header;
  std::uint32_t header_length = 0;     // 2 to 14; 0 when the header was not all there
  std::uint32_t payload_captured = 0;  // payload bytes in the segment
  bool has_close_code = false;
  std::uint16_t close_code = 0;
  bool continues = false;  // the payload goes on past the segment
  dissect::Problem problem;
};

// `bytes` is the TCP payload as captured, `length` its length on the wire (0: all captured).
FrameView decode_websocket(std::span<const std::uint8_t> bytes, std::uint32_t length = 0) noexcept;

// "WebSocket" with websocket.fin, websocket.rsv, websocket.opcode, websocket.mask,
// websocket.payload_length (and .payload_length_ext_16 or _64), websocket.masking_key, and
// websocket.payload.text (the first 64 bytes, unmasked) or
// websocket.payload.close.status_code and .reason.
void describe(const FrameView& f, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As tshark's Info column: "WebSocket Text [FIN] [MASKED]", "WebSocket Connection Close [FIN]".
std::string summary(const FrameView& f);

}  // namespace duplex::websocket
