// Public. The WebSocket base framing protocol of RFC 6455 section 5: an incremental frame
// decoder that enforces the framing rules, the frame encoder, and masking.
//
// The decoder is sans-IO and allocation-free: it reads a frame header from as many calls as
// the bytes arrive in, then hands back spans of still-masked payload which the caller copies
// where it wants them and unmasks with apply_mask(). Message assembly, UTF-8, sizes and the
// close handshake live in websocket_session.h. Not thread-safe; one decoder per connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace duplex::websocket {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xa,
};

constexpr bool is_control(Opcode op) noexcept { return (static_cast<unsigned>(op) & 0x8) != 0; }

// Which end of the connection we are: servers receive masked frames and send unmasked ones,
// clients the other way round (RFC 6455 5.1).
enum class Role : std::uint8_t { server, client };

// Status codes of a Close frame (RFC 6455 7.4.1).
enum class CloseCode : std::uint16_t {
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,
  no_status = 1005,  // never on the wire: "the Close frame had no code"
  abnormal = 1006,   // never on the wire: "the connection dropped without a Close"
  invalid_payload = 1007,
  policy_violation = 1008,
  message_too_big = 1009,
  mandatory_extension = 1010,
  internal_error = 1011,
};

// Whether `code` may appear in a Close frame: the registered codes that an endpoint may
// send (1000-1003, 1007-1014) and the ranges for libraries and applications (3000-4999).
// 1004-1006, 1015, anything below 1000 and the rest of 1016-2999 are refused.
bool is_valid_close_code(std::uint16_t code) noexcept;

constexpr std::size_t kMaxControlPayload = 125;
constexpr std::size_t kMaxHeaderSize = 14;  // 2 + 8 (64-bit length) + 4 (mask key)

struct FrameHeader {
  bool fin = false;
  std::uint8_t rsv = 0;  // RSV1..RSV3 as bits 2..0; nonzero only with an extension
  Opcode opcode = Opcode::continuation;
  bool masked = false;
  std::array<std::uint8_t, 4> mask{};
  std::uint64_t payload_length = 0;
};

// The header bytes that a frame's first two announce: 2, the extended length, the mask key.
std::size_t frame_header_size(std::uint8_t second) noexcept;
// The header at the start of `bytes`, which holds at least frame_header_size(bytes[1]) bytes,
// as sent: the framing rules are FrameDecoder's to judge.
FrameHeader read_frame_header(std::span<const std::uint8_t> bytes) noexcept;

// XORs `data` with `mask`, starting at byte `offset` of the payload (so a payload unmasked
// in pieces comes out right). Eight bytes at a time.
void apply_mask(std::span<std::uint8_t> data, const std::array<std::uint8_t, 4>& mask,
                std::uint64_t offset) noexcept;

// Appends one frame to `out`. A client passes a mask key (it must: RFC 6455 5.3) and the
// payload goes out masked; a server passes none.
void encode_frame(std::string& out, Opcode opcode, std::span<const std::uint8_t> payload,
                  bool fin = true, const std::array<std::uint8_t, 4>* mask = nullptr);

// Four unpredictable bytes for a client's frame (OpenSSL's RAND_bytes).
std::array<std::uint8_t, 4> random_mask();

class FrameDecoder {
 public:
  enum class Event : std::uint8_t {
    need_more,  // every byte given was consumed; call again with more
    header,     // a complete, valid header: see header()
    payload,    // `payload` holds masked payload bytes starting at `offset`
    error,      // a framing rule was broken: close with `code`; the decoder stays failed
  };
  struct Result {
    Event event = Event::need_more;
    std::size_t consumed = 0;
    std::span<const std::uint8_t> payload;
    std::uint64_t offset = 0;  // position of payload[0] within the frame's payload
    bool frame_end = false;    // this header (empty payload) or payload ends the frame
    CloseCode code = CloseCode::normal;
    std::string_view reason;  // for error: which rule, in a few words
  };

  // `role` is our side: a server requires masked frames, a client unmasked ones.
  explicit FrameDecoder(Role role) noexcept : role_(role) {}

  // Consumes bytes from the front of `in` up to the next event.
  Result next(std::span<const std::uint8_t> in) noexcept;

  // The header of the frame being read; valid from its header event to its frame end.
  const FrameHeader& header() const noexcept { return header_; }
  // True while a fragmented text or binary message has begun and not finished.
  bool in_message() const noexcept { return in_message_; }

 private:
  Result fail(std::string_view reason, CloseCode code = CloseCode::protocol_error) noexcept;
  Result parse_header(std::size_t consumed) noexcept;

  Role role_;
  bool failed_ = false;
  bool in_message_ = false;
  bool reading_payload_ = false;
  std::size_t have_ = 0;  // header bytes collected in buf_
  std::array<std::uint8_t, kMaxHeaderSize> buf_{};
  FrameHeader header_;
  std::uint64_t done_ = 0;  // payload bytes already handed out
};

}  // namespace duplex::websocket
