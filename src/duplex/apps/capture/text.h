// Internal to the capture app. Appends a number as decimal digits, without the allocation of
// std::to_string: the line and JSON outputs call it several times per packet.
#pragma once

#include <cstdint>
#include <string>

namespace duplex::capture {

inline void append_number(std::string& out, std::uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) out += digits[--n];
}

}  // namespace duplex::capture
