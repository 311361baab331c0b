// Public. An incremental UTF-8 validator (RFC 3629) for WebSocket text messages, which
// may be cut anywhere: across reads, across fragments, inside a code point.
//
// Strict in the ways RFC 6455 8.1 needs: overlong forms, UTF-16 surrogates (U+D800..DFFF)
// and anything above U+10FFFF are invalid, and an invalid byte is reported as soon as it is
// seen, not at the end of the message. Not thread-safe; one per message being read.
#pragma once

#include <cstdint>
#include <span>

namespace duplex::websocket {

class Utf8Validator {
 public:
  // Feeds the next bytes; false once the text so far cannot be valid UTF-8 (sticky).
  bool feed(std::span<const std::uint8_t> bytes) noexcept;
  // True if the bytes fed so far end on a code point boundary (the message may end here).
  bool complete() const noexcept { return !failed_ && need_ == 0; }
  bool failed() const noexcept { return failed_; }
  void reset() noexcept { *this = Utf8Validator{}; }

 private:
  std::uint8_t need_ = 0;               // continuation bytes still expected
  std::uint8_t lo_ = 0x80, hi_ = 0xbf;  // allowed range of the next continuation byte
  bool failed_ = false;
};

// The whole of `bytes` is valid UTF-8.
bool is_valid_utf8(std::span<const std::uint8_t> bytes) noexcept;

}  // namespace duplex::websocket
