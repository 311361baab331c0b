#include "duplex/proto/websocket_utf8.h"

#include <cstring>

#include "duplex/base/strings.h"

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
      const Utf8Lead lead = utf8_lead(b);
      if (!lead.valid) {
        failed_ = true;
        return false;
      }
      need_ = lead.need;
      lo_ = lead.lo;
      hi_ = lead.hi;
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
