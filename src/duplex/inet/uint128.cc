#include "duplex/inet/uint128.h"

#include <algorithm>

namespace duplex::inet::u128 {

std::string to_decimal(uint128 v) {
  if (v == 0) return "0";
  char buf[40];
  std::size_t n = 0;
  while (v != 0) {
    buf[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  std::string out(buf, n);
  std::reverse(out.begin(), out.end());
  return out;
}

std::string pow2_decimal(unsigned n) {
  if (n < 128) return to_decimal(uint128{1} << n);
  return "340282366920938463463374607431768211456";  // 2^128, one past what uint128 holds
}

}  // namespace duplex::inet::u128
