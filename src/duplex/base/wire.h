// Public. Big-endian (network order) reads from a packet's bytes, shared by every packet
// codec. The caller checks the bound first; these never see the span's size.
#pragma once

#include <cstdint>

namespace duplex::wire {

constexpr std::uint16_t be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
constexpr std::uint32_t be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace duplex::wire
