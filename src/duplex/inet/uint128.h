// Public. The one home of duplex's 128-bit arithmetic: an IPv6 address is a 128-bit number,
// and so is an IPv4 one padded with zeros; every mask, count and range is computed here.
//
// GCC and Clang's unsigned __int128 is exact and fast; what it cannot hold is 2^128 itself
// (the size of ::/0), so counts of a whole family come back as decimal text as well.
#pragma once

#include <cstdint>
#include <string>

namespace duplex::inet {

__extension__ typedef unsigned __int128 uint128;  // __extension__: no -Wpedantic noise

namespace u128 {

constexpr uint128 kMax = ~uint128{0};

// The low `n` bits set, n in [0, 128]: ones(24) == 0xffffff.
constexpr uint128 ones(unsigned n) noexcept { return n >= 128 ? kMax : (uint128{1} << n) - 1; }

// Number of trailing zero bits; 128 for zero.
constexpr unsigned countr_zero(uint128 v) noexcept {
  if (v == 0) return 128;
  const auto lo = static_cast<std::uint64_t>(v);
  if (lo != 0) return static_cast<unsigned>(__builtin_ctzll(lo));
  return 64u + static_cast<unsigned>(__builtin_ctzll(static_cast<std::uint64_t>(v >> 64)));
}

// Number of bits needed to write `v`; 0 for zero. bit_width(1) == 1, bit_width(256) == 9.
constexpr unsigned bit_width(uint128 v) noexcept {
  const auto hi = static_cast<std::uint64_t>(v >> 64);
  if (hi != 0) return 128u - static_cast<unsigned>(__builtin_clzll(hi));
  const auto lo = static_cast<std::uint64_t>(v);
  return lo == 0 ? 0u : 64u - static_cast<unsigned>(__builtin_clzll(lo));
}

// Decimal text of `v`: "340282366920938463463374607431768211455" for kMax.
std::string to_decimal(uint128 v);

// Decimal text of 2^n for n in [0, 128]; exact even for 2^128.
std::string pow2_decimal(unsigned n);

}  // namespace u128
}  // namespace duplex::inet
