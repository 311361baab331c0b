// Internal to the capture app. Appends a number as decimal digits, without the allocation of
// std::to_string: the line and JSON outputs call it several times per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace duplex::capture {

inline void append_number(std::string& out, std::uint64_t value) {
  char digits[20];
  char* first = digits + sizeof digits;
  do {
    *--first = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  out.append(first, digits + sizeof digits);
}

// Appends a string literal in one call, its length known when compiled.
template <std::size_t N>
void append_literal(std::string& out, const char (&text)[N]) {
  out.append(text, N - 1);
}

}  // namespace duplex::capture
