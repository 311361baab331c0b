// Public. MacAddress: a 48-bit IEEE 802 MAC address (EUI-48) as a value type.
//
// Parsing accepts the forms that tools print:
//   colon      00:1a:2b:3c:4d:5e   (Linux `ip link`, also macOS `0:1a:2b:3:4:5e`)
//   hyphen     00-1A-2B-3C-4D-5E   (IEEE 802, Windows `ipconfig /all`)
//   Cisco dot  001a.2b3c.4d5e      (Cisco IOS)
//   bare hex   001a2b3c4d5e
// Hex digits in any case. In the colon and hyphen forms a group may drop its leading zero
// (`0:1a:2b:3:4:5e`), because BSD and macOS tools print it that way; the dot form needs four
// digits per group and the bare form exactly twelve. One separator per address: `00:1a-2b...`
// is rejected.
//
// All methods are const and safe to call from any thread.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/inet/address.h"

namespace duplex::link {

// How MacAddress::to_string writes the address.
enum class MacFormat {
  colon,   // 00:1a:2b:3c:4d:5e  lower case, as Linux prints it (the default)
  hyphen,  // 00-1A-2B-3C-4D-5E  upper case, the IEEE 802 canonical form
  cisco,   // 001a.2b3c.4d5e     three groups of four, as Cisco IOS prints it
  bare,    // 001a2b3c4d5e       twelve hex digits
};

class MacAddress {
 public:
  using Bytes = std::array<std::uint8_t, 6>;
  // A modified EUI-64 interface identifier (RFC 4291 section 2.5.1 and appendix A).
  using InterfaceId = std::array<std::uint8_t, 8>;

  constexpr MacAddress() noexcept = default;  // 00:00:00:00:00:00
  constexpr explicit MacAddress(const Bytes& bytes) noexcept : bytes_(bytes) {}

  // The low 48 bits of `value`, most significant byte first on the wire.
  static constexpr MacAddress from_uint64(std::uint64_t value) noexcept {
    Bytes b{};
    for (std::size_t i = 0; i < 6; ++i) b[5 - i] = static_cast<std::uint8_t>(value >> (8 * i));
    return MacAddress(b);
  }
  static constexpr MacAddress broadcast() noexcept { return from_uint64(0xffff'ffff'ffffULL); }

  // Throws duplex::ParseError with one line naming what is wrong, e.g.
  // "'00:11' is not a MAC address: 2 of 6 bytes".
  static MacAddress parse(std::string_view text);
  static std::optional<MacAddress> try_parse(std::string_view text) noexcept;

  constexpr const Bytes& bytes() const noexcept { return bytes_; }
  constexpr std::uint64_t to_uint64() const noexcept {
    std::uint64_t v = 0;
    for (auto b : bytes_) v = (v << 8) | b;
    return v;
  }

  // I/G bit (bit 0 of the first byte, the first bit on the wire): 1 = a group address,
  // delivered to every interface that listens to the group (multicast, or broadcast).
  constexpr bool is_group() const noexcept { return (bytes_[0] & 0x01) != 0; }
  constexpr bool is_individual() const noexcept { return !is_group(); }
  // U/L bit (bit 1 of the first byte): 1 = locally administered, set by software rather
  // than burnt in by a vendor from its IEEE block (random MACs of phones, VMs, bridges).
  constexpr bool is_local() const noexcept { return (bytes_[0] & 0x02) != 0; }
  constexpr bool is_universal() const noexcept { return !is_local(); }
  constexpr bool is_broadcast() const noexcept { return to_uint64() == 0xffff'ffff'ffffULL; }
  constexpr bool is_zero() const noexcept { return to_uint64() == 0; }
  // The first 24 bits, the Organizationally Unique Identifier as written in the address
  // (I/G and U/L bits included).
  constexpr std::uint32_t oui() const noexcept {
    return static_cast<std::uint32_t>(to_uint64() >> 24);
  }

  // The interface identifier that IPv6 stateless autoconfiguration derives from this MAC:
  // ff:fe inserted in the middle and the U/L bit inverted (RFC 4291 appendix A).
  constexpr InterfaceId modified_eui64() const noexcept {
    return {static_cast<std::uint8_t>(bytes_[0] ^ 0x02),
            bytes_[1],
            bytes_[2],
            0xff,
            0xfe,
            bytes_[3],
            bytes_[4],
            bytes_[5]};
  }
  // The IPv6 link-local address autoconfiguration gives this interface: fe80::/64 plus the
  // modified EUI-64, e.g. fe80::200:cff:fe12:3456 for 00:00:0c:12:34:56.
  inet::Address ipv6_link_local() const noexcept;

  std::string to_string(MacFormat format = MacFormat::colon) const;

  friend constexpr auto operator<=>(const MacAddress&, const MacAddress&) = default;

 private:
  Bytes bytes_{};
};

// The interface id as eight colon-separated bytes, e.g. "02:00:0c:ff:fe:12:34:56".
std::string to_string(const MacAddress::InterfaceId& id);

}  // namespace duplex::link

template <>
struct std::hash<duplex::link::MacAddress> {
  std::size_t operator()(const duplex::link::MacAddress& mac) const noexcept {
    return std::hash<std::uint64_t>{}(mac.to_uint64());
  }
};
