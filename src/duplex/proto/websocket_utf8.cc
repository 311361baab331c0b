#include "duplex/proto/websocket_utf8.h"

#include <cstring>

namespace duplex::websocket {

bool Utf8Validator::feed(std::span<const std::uint8_t> bytes) noexcept {
  if (failed_) return false;
  const std::uint8_t* p = bytes.data();
  const std::uint8_t* const end = p + bytes.size();
  while (p < end) {
    if (need_ == 0) {
      // ASCII runs are most text: skip them eight bytes at a time.
      while (end - p >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p, 8);
        if (word & 0x8080808080808080ULL) break;
        p += 8;
      }
      if (p == end) break;
      const std::uint8_t b = *p++;
      if (b < 0x80) continue;
      // The first continuation byte's range rules out overlongs (E0, F0), surrogates (ED)
      // and code points past U+10FFFF (F4); C0, C1 and F5..FF never start anything.
      lo_ = 0x80;
      hi_ = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) {
        need_ = 1;
      } else if (b >= 0xe0 && b <= 0xef) {
        need_ = 2;
        if (b == 0xe0) lo_ = 0xa0;
        if (b == 0xed) hi_ = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need_ = 3;
        if (b == 0xf0) lo_ = 0x90;
        if (b == 0xf4) hi_ = 0x8f;
      } else {
        failed_ = true;
        return false;
      }
    } else {
      const std::uint8_t b = *p++;
      if (b < lo_ || b > hi_) {
        failed_ = true;
        return false;
      }
      lo_ = 0x80;
      hi_ = 0xbf;
      --need_;
    }
  }
  return true;
}

bool is_valid_utf8(std::span<const std::uint8_t> bytes) noexcept {
  Utf8Validator v;
  return v.feed(bytes) && v.complete();
}

}  // namespace duplex::websocket
