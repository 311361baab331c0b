#include "duplex/proto/websocket_view.h"

#include <algorithm>
#include <array>

#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"

namespace duplex::websocket {
namespace {

using dissect::decimal;
using dissect::Problem;

// tshark's words for an opcode; "" for the reserved ones.
std::string_view opcode_name(Opcode op) noexcept {
  switch (op) {
    case Opcode::continuation:
      return "Continuation";
    case Opcode::text:
      return "Text";
    case Opcode::binary:
      return "Binary";
    case Opcode::close:
      return "Connection Close";
    case Opcode::ping:
      return "Ping";
    case Opcode::pong:
      return "Pong";
  }
  return "";
}

// The payload bytes [from, from + n) of the frame, unmasked, as far as captured.
std::string unmasked(const FrameView& f, std::span<const std::uint8_t> bytes, std::uint32_t from,
                     std::uint32_t n) {
  const std::uint32_t at = f.header_length + from;
  n = std::min(n, f.payload_captured > from ? f.payload_captured - from : 0);
  std::string s(reinterpret_cast<const char*>(bytes.data()) + at, n);
  if (f.header.masked)
    apply_mask({reinterpret_cast<std::uint8_t*>(s.data()), s.size()}, f.header.mask, from);
  return s;
}

}  // namespace

FrameView decode_websocket(std::span<const std::uint8_t> bytes, std::uint32_t length) noexcept {
  FrameView f;
  const auto size = static_cast<std::uint32_t>(bytes.size());
  if (length == 0) length = size;
  const bool cut_by_capture = size < length;
  const auto stop = [&](const char* what, std::uint32_t at) noexcept {
    if (cut_by_capture)
      f.problem = {Problem::Kind::truncated, what, at};
    else
      f.continues = true;
  };
  if (size < 2 || size < frame_header_size(bytes[1])) {
    if (size >= 1) f.header.fin = (bytes[0] & 0x80) != 0;
    stop("the frame header was cut by the capture", size);
    return f;
  }
  f.header = read_frame_header(bytes);
  f.header_length = static_cast<std::uint32_t>(frame_header_size(bytes[1]));
  const unsigned len7 = bytes[1] & 0x7fu;
  const std::uint64_t payload = f.header.payload_length;
  f.payload_captured =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(payload, size - f.header_length));
  const Opcode op = f.header.opcode;
  if (opcode_name(op).empty())
    f.problem = {Problem::Kind::malformed, "a reserved opcode", 0};
  else if (is_control(op) && !f.header.fin)
    f.problem = {Problem::Kind::malformed, "a fragmented control frame", 0};
  else if (is_control(op) && payload > kMaxControlPayload)
    f.problem = {Problem::Kind::malformed, "a control frame over 125 bytes", 1};
  else if (len7 == 127 && (payload >> 63) != 0)
    f.problem = {Problem::Kind::malformed, "a 64-bit payload length with the top bit set", 2};
  else if ((len7 == 126 && payload < 126) || (len7 == 127 && payload <= 0xffff))
    f.problem = {Problem::Kind::malformed, "a payload length not in its shortest form", 2};
  else if (op == Opcode::close && payload == 1)
    f.problem = {Problem::Kind::malformed, "a close payload of 1 byte (a code needs 2)",
                 f.header_length};
  if (f.problem) return f;
  if (op == Opcode::close && f.payload_captured >= 2) {
    const std::string code = unmasked(f, bytes, 0, 2);
    f.has_close_code = true;
    f.close_code = wire::be16(reinterpret_cast<const std::uint8_t*>(code.data()));
  }
  if (f.header_length + payload > size) stop("the payload was cut by the capture", size);
  return f;
}

void describe(const FrameView& f, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = "WebSocket";
  out.layer = dissect::Layer::application;
  out.offset = offset;
  out.length = static_cast<std::uint32_t>(bytes.size());
  out.problem = dissect::to_string(f.problem);
  dissect::CapturedFields field(out, offset, bytes.size());
  if (f.header_length == 0) return;
  const FrameHeader& h = f.header;
  field("websocket.fin", "Fin", h.fin ? "1" : "0", 0, 1);
  field("websocket.rsv", "Reserved", dissect::hex(h.rsv, 1), 0, 1);
  field("websocket.opcode", "Opcode", decimal(static_cast<unsigned>(h.opcode)), 0, 1,
        std::string(opcode_name(h.opcode)));
  field("websocket.mask", "Mask", h.masked ? "1" : "0", 1, 1);
  const unsigned len7 = bytes[1] & 0x7fu;
  field("websocket.payload_length", "Payload length", decimal(len7), 1, 1);
  if (len7 == 126)
    field("websocket.payload_length_ext_16", "Extended Payload length (16 bits)",
          decimal(h.payload_length), 2, 2);
  if (len7 == 127)
    field("websocket.payload_length_ext_64", "Extended Payload length (64 bits)",
          decimal(h.payload_length), 2, 8);
  if (h.masked)
    field("websocket.masking_key", "Masking-Key",
          wire::colon_hex(std::span<const std::uint8_t>(h.mask)), f.header_length - 4, 4);
  if (f.problem) return;
  const std::uint32_t body = f.header_length;
  if (h.opcode == Opcode::text && f.payload_captured != 0) {
    const std::uint32_t n = std::min(f.payload_captured, FrameView::kPreview);
    field("websocket.payload.text", "Text", unmasked(f, bytes, 0, n), body, n,
          f.payload_captured < h.payload_length || h.payload_length > n
              ? "the first " + decimal(n) + " of " + decimal(h.payload_length) + " bytes"
              : "");
  }
  if (f.has_close_code) {
    field("websocket.payload.close.status_code", "Status code", decimal(f.close_code), body, 2);
    const std::uint32_t n = std::min(f.payload_captured, 2 + FrameView::kPreview) - 2;
    if (n != 0)
      field("websocket.payload.close.reason", "Reason", unmasked(f, bytes, 2, n), body + 2, n);
  }
}

std::string summary(const FrameView& f) {
  if (f.header_length == 0) return "WebSocket";
  const auto name = opcode_name(f.header.opcode);
  std::string s =
      "WebSocket " + (name.empty() ? "Unknown " + decimal(static_cast<unsigned>(f.header.opcode))
                                   : std::string(name));
  if (f.header.fin) s += " [FIN]";
  if (f.header.masked) s += " [MASKED]";
  return s;
}

}  // namespace duplex::websocket
