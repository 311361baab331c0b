#include "duplex/proto/websocket_frame.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "duplex/base/error.h"

namespace duplex::websocket {

bool is_valid_close_code(std::uint16_t code) noexcept {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

void apply_mask(std::span<std::uint8_t> data, const std::array<std::uint8_t, 4>& mask,
                std::uint64_t offset) noexcept {
  std::uint8_t* p = data.data();
  std::size_t n = data.size();
  std::size_t k = static_cast<std::size_t>(offset & 3);
  // Byte-wise until the key is back at position 0, then eight bytes at a time with the key
  // doubled into a word; memcpy keeps unaligned access defined and compiles to plain moves.
  while (n > 0 && k != 0) {
    *p++ ^= mask[k];
    k = (k + 1) & 3;
    --n;
  }
  std::uint8_t doubled[8];
  for (std::size_t i = 0; i < 8; ++i) doubled[i] = mask[i & 3];
  std::uint64_t key = 0;
  std::memcpy(&key, doubled, 8);
  while (n >= 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, 8);
    word ^= key;
    std::memcpy(p, &word, 8);
    p += 8;
    n -= 8;
  }
  for (std::size_t i = 0; i < n; ++i) p[i] ^= mask[i & 3];
}

void encode_frame(std::string& out, Opcode opcode, std::span<const std::uint8_t> payload, bool fin,
                  const std::array<std::uint8_t, 4>* mask) {
  std::uint8_t head[kMaxHeaderSize];
  std::size_t n = 0;
  head[n++] = static_cast<std::uint8_t>((fin ? 0x80 : 0) | static_cast<unsigned>(opcode));
  const std::uint8_t mask_bit = mask ? 0x80 : 0;
  const std::uint64_t len = payload.size();
  if (len <= 125) {
    head[n++] = static_cast<std::uint8_t>(mask_bit | len);
  } else if (len <= 0xffff) {
    head[n++] = mask_bit | 126;
    head[n++] = static_cast<std::uint8_t>(len >> 8);
    head[n++] = static_cast<std::uint8_t>(len);
  } else {
    head[n++] = mask_bit | 127;
    for (int shift = 56; shift >= 0; shift -= 8) {
      head[n++] = static_cast<std::uint8_t>(len >> shift);
    }
  }
  if (mask) {
    std::memcpy(head + n, mask->data(), 4);
    n += 4;
  }
  const std::size_t start = out.size();
  out.append(reinterpret_cast<const char*>(head), n);
  out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  if (mask) {
    auto* body = reinterpret_cast<std::uint8_t*>(out.data() + start + n);
    apply_mask({body, payload.size()}, *mask, 0);
  }
}

std::array<std::uint8_t, 4> random_mask() {
  std::array<std::uint8_t, 4> key{};
  if (RAND_bytes(key.data(), 4) != 1) {
    throw Error("cannot draw a WebSocket mask key: OpenSSL's random generator failed");
  }
  return key;
}

std::size_t frame_header_size(std::uint8_t second) noexcept {
  const unsigned len7 = second & 0x7fu;
  const std::size_t extended = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  return 2 + extended + ((second & 0x80) ? 4 : 0);
}

FrameHeader read_frame_header(std::span<const std::uint8_t> bytes) noexcept {
  FrameHeader h;
  h.fin = (bytes[0] & 0x80) != 0;
  h.rsv = static_cast<std::uint8_t>((bytes[0] >> 4) & 0x7);
  h.opcode = static_cast<Opcode>(bytes[0] & 0x0f);
  h.masked = (bytes[1] & 0x80) != 0;
  const unsigned len7 = bytes[1] & 0x7fu;
  std::size_t pos = 2;
  if (len7 == 126) {
    h.payload_length = (std::uint64_t{bytes[2]} << 8) | bytes[3];
    pos = 4;
  } else if (len7 == 127) {
    for (std::size_t i = 0; i < 8; ++i) h.payload_length = (h.payload_length << 8) | bytes[2 + i];
    pos = 10;
  } else {
    h.payload_length = len7;
  }
  if (h.masked) std::memcpy(h.mask.data(), bytes.data() + pos, 4);
  return h;
}

namespace {

FrameDecoder::Result need_more(std::size_t consumed) noexcept {
  FrameDecoder::Result r;
  r.consumed = consumed;
  return r;
}

}  // namespace

FrameDecoder::Result FrameDecoder::fail(std::string_view reason, CloseCode code) noexcept {
  failed_ = true;
  Result r;
  r.event = Event::error;
  r.code = code;
  r.reason = reason;
  return r;
}

FrameDecoder::Result FrameDecoder::next(std::span<const std::uint8_t> in) noexcept {
  if (failed_) return fail("the connection already failed");
  if (reading_payload_) {
    const std::uint64_t left = header_.payload_length - done_;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, in.size()));
    if (n == 0) return need_more(0);
    Result r;
    r.event = Event::payload;
    r.consumed = n;
    r.payload = in.first(n);
    r.offset = done_;
    done_ += n;
    if (done_ == header_.payload_length) {
      r.frame_end = true;
      reading_payload_ = false;
    }
    return r;
  }
  // Collect header bytes: first the two fixed ones, then as many as they announce.
  std::size_t consumed = 0;
  while (consumed < in.size()) {
    const std::size_t need = have_ >= 2 ? frame_header_size(buf_[1]) : 2;
    if (have_ == need) break;
    const std::size_t take = std::min(need - have_, in.size() - consumed);
    std::memcpy(buf_.data() + have_, in.data() + consumed, take);
    have_ += take;
    consumed += take;
    if (have_ == 2) {
      // Check what the first two bytes already decide, before waiting for the rest.
      const auto op = static_cast<Opcode>(buf_[0] & 0x0f);
      const bool masked = (buf_[1] & 0x80) != 0;
      if (buf_[0] & 0x70) return fail("reserved bit set without a negotiated extension");
      switch (op) {
        case Opcode::continuation:
        case Opcode::text:
        case Opcode::binary:
        case Opcode::close:
        case Opcode::ping:
        case Opcode::pong:
          break;
        default:
          return fail("reserved opcode");
      }
      if (is_control(op)) {
        if (!(buf_[0] & 0x80)) return fail("fragmented control frame");
        if ((buf_[1] & 0x7fu) > kMaxControlPayload) return fail("control frame over 125 bytes");
      }
      if (role_ == Role::server && !masked) return fail("unmasked frame from a client");
      if (role_ == Role::client && masked) return fail("masked frame from a server");
    }
  }
  if (have_ < 2 || have_ < frame_header_size(buf_[1])) return need_more(consumed);
  return parse_header(consumed);
}

FrameDecoder::Result FrameDecoder::parse_header(std::size_t consumed) noexcept {
  const FrameHeader h = read_frame_header(buf_);
  const unsigned len7 = buf_[1] & 0x7fu;
  if (len7 == 126 && h.payload_length < 126) return fail("payload length not in its shortest form");
  if (len7 == 127) {
    if (h.payload_length >> 63) return fail("64-bit payload length with the top bit set");
    if (h.payload_length <= 0xffff) return fail("payload length not in its shortest form");
  }
  // Message sequencing (5.4): continuation only inside a message, no new one inside one.
  if (!is_control(h.opcode)) {
    if (h.opcode == Opcode::continuation && !in_message_) {
      return fail("continuation frame without a message to continue");
    }
    if (h.opcode != Opcode::continuation && in_message_) {
      return fail("new data frame before the fragmented message ended");
    }
    in_message_ = !h.fin;
  }
  header_ = h;
  have_ = 0;
  done_ = 0;
  reading_payload_ = h.payload_length > 0;
  Result r;
  r.event = Event::header;
  r.consumed = consumed;
  r.frame_end = h.payload_length == 0;
  return r;
}

}  // namespace duplex::websocket
