// Public. Big-endian (network order) reads from a packet's bytes, shared by every packet
// codec (the caller checks the bound first; these never see the span's size), and raw bytes
// as text the way Wireshark shows them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace duplex::wire {

constexpr std::uint16_t be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
constexpr std::uint32_t be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// "00:1a:2b", lower case: Wireshark's text for FT_BYTES (addresses of unknown kinds, padding).
inline std::string colon_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) s += ':';
    s += kDigits[bytes[i] >> 4];
    s += kDigits[bytes[i] & 0xf];
  }
  return s;
}

}  // namespace duplex::wire
