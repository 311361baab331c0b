// Public. An IPv4 or IPv6 address as a value: 16 bytes and a family, cheap to copy,
// comparable (IPv4 sorts before IPv6, then numerically) and hashable.
//
// Parsing is strict and never guesses. Accepted notations:
//   IPv4  dotted decimal 192.168.1.10, a 32-bit integer 3232235786, hex 0xC0A8010A,
//         dotted binary 11000000.10101000.00000001.00001010 (four groups of exactly 8 bits).
//         A leading zero ("010.1.1.1", "0123") is rejected: glibc's inet_aton reads it as
//         octal (010 == 8) and inet_pton refuses it, so it cannot mean one thing everywhere.
//   IPv6  full or compressed (RFC 4291 2.2), with an embedded dotted IPv4 in the last 32 bits
//         (::ffff:1.2.3.4). Zone ids ("fe80::1%eth0") are rejected: an Address is a number
//         without an interface; the scope belongs to a socket, not to the value.
// Every parse error is one line naming the text and the cause (duplex::ParseError).
//
// All members are safe to call from any thread (it is a value).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/inet/uint128.h"

namespace duplex::inet {

enum class Family : std::uint8_t { v4 = 4, v6 = 6 };

// The coarse kind of an address, after the IANA special-purpose registries
// (RFC 6890 and its updates). `Address::special()` gives the exact registry entry.
enum class Category : std::uint8_t {
  global,         // no special-purpose block: ordinary globally routed unicast
  unspecified,    // 0.0.0.0, ::
  this_network,   // 0.0.0.0/8 (RFC 791)
  loopback,       // 127.0.0.0/8, ::1
  private_use,    // RFC 1918: 10/8, 172.16/12, 192.168/16
  shared_cgnat,   // 100.64.0.0/10 (RFC 6598), carrier-grade NAT
  link_local,     // 169.254.0.0/16, fe80::/10
  multicast,      // 224.0.0.0/4, ff00::/8
  documentation,  // RFC 5737 TEST-NETs, 2001:db8::/32 (RFC 3849), 3fff::/20 (RFC 9637)
  benchmarking,   // 198.18.0.0/15, 2001:2::/48
  reserved,       // 240.0.0.0/4, and IPv6 outside the blocks IANA has allocated
  broadcast,      // 255.255.255.255
  unique_local,   // fc00::/7 (RFC 4193)
  ipv4_mapped,    // ::ffff:0:0/96
  translation,    // 64:ff9b::/96 and friends (NAT64)
  protocol,       // IETF protocol assignments (192.0.0.0/24, 2001::/23), anycast services
  tunnel,         // 6to4 (2002::/16, 192.88.99.0/24), Teredo (2001::/32)
  discard,        // 100::/64 (RFC 6666)
};

// snake_case name of a category, for JSON: "private_use", "shared_cgnat"...
std::string_view to_string(Category c) noexcept;

// One row of the IANA special-purpose address registry.
struct SpecialBlock {
  std::string_view prefix;  // "10.0.0.0/8"
  std::string_view name;    // "Private-Use"
  std::string_view rfc;     // "RFC 1918"
  Category category;
  bool globally_reachable;  // the registry's "Globally Reachable" column
};

class Address {
 public:
  // 0.0.0.0.
  constexpr Address() noexcept = default;

  // Throws duplex::ParseError with a one-line reason.
  static Address parse(std::string_view text);
  static std::optional<Address> try_parse(std::string_view text) noexcept;

  static Address v4(std::uint32_t value) noexcept;
  static Address v6(const std::array<std::uint8_t, 16>& bytes) noexcept;
  // The address whose numeric value is `value`; for v4 only the low 32 bits count.
  static Address from_value(Family family, uint128 value) noexcept;
  // ::ffff:a.b.c.d for an IPv4 address.
  static Address v4_mapped(std::uint32_t value) noexcept;

  Family family() const noexcept { return family_; }
  bool is_v4() const noexcept { return family_ == Family::v4; }
  bool is_v6() const noexcept { return family_ == Family::v6; }
  unsigned bits() const noexcept { return is_v4() ? 32u : 128u; }

  // Network byte order; 4 bytes for IPv4, 16 for IPv6.
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return is_v4() ? 4 : 16; }
  // The address as a number (host order).
  uint128 value() const noexcept;
  // The IPv4 address as a number; 0 for IPv6.
  std::uint32_t to_uint32() const noexcept;

  // For ::ffff:a.b.c.d, the IPv4 address a.b.c.d; otherwise the address itself.
  Address unmapped() const noexcept;
  bool is_v4_mapped() const noexcept;

  // Canonical text: dotted decimal, or RFC 5952 (lowercase, the longest run of two or more
  // zero fields compressed, the first on a tie, ::ffff:1.2.3.4 for IPv4-mapped).
  std::string to_string() const;
  // All eight fields, four digits each: 2001:0db8:0000:...; IPv4 as to_string().
  std::string to_expanded() const;
  // "0xC0A8010A": 8 or 32 upper-case hex digits.
  std::string to_hex() const;
  // The number in decimal: "3232235786"; for IPv6 up to 39 digits.
  std::string to_decimal() const;
  // IPv4: 11000000.10101000.00000001.00001010; IPv6: eight 16-bit groups joined by ':'.
  std::string to_binary() const;
  // 10.1.168.192.in-addr.arpa, or the 32 nibbles of ip6.arpa (no trailing dot).
  std::string reverse_dns() const;

  // Classification after the IANA special-purpose registries.
  const SpecialBlock* special() const noexcept;  // most specific block, nullptr if none
  Category category() const noexcept;
  bool is_unspecified() const noexcept;
  bool is_loopback() const noexcept;
  bool is_private() const noexcept;  // RFC 1918 (IPv4 only)
  bool is_cgnat() const noexcept;    // 100.64.0.0/10
  bool is_link_local() const noexcept;
  bool is_multicast() const noexcept;
  bool is_documentation() const noexcept;
  bool is_reserved() const noexcept;
  bool is_broadcast() const noexcept;     // 255.255.255.255
  bool is_unique_local() const noexcept;  // fc00::/7
  bool is_global() const noexcept;        // globally reachable per the registry
  // Classful class 'A'..'E' of an IPv4 address; 0 for IPv6.
  char ipv4_class() const noexcept;

  // Bit operations. Both sides must have the same family (duplex::Error otherwise).
  Address operator&(const Address& mask) const;
  Address operator|(const Address& other) const;
  Address operator~() const noexcept;
  // Arithmetic modulo 2^32 or 2^128, for walking ranges.
  Address operator+(uint128 n) const noexcept;
  Address operator-(uint128 n) const noexcept;

  friend bool operator==(const Address&, const Address&) = default;
  friend std::strong_ordering operator<=>(const Address& a, const Address& b) noexcept {
    if (auto c = a.family_ <=> b.family_; std::is_neq(c)) return c;
    return a.bytes_ <=> b.bytes_;
  }

 private:
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 in bytes_[0..3], the rest zero
  Family family_ = Family::v4;
};

}  // namespace duplex::inet

template <>
struct std::hash<duplex::inet::Address> {
  std::size_t operator()(const duplex::inet::Address& a) const noexcept {
    const auto v = a.value();
    const auto h = static_cast<std::uint64_t>(v) ^
                   (static_cast<std::uint64_t>(v >> 64) * 0x9e3779b97f4a7c15ULL);
    return std::hash<std::uint64_t>{}(h ^ static_cast<std::uint64_t>(a.family()));
  }
};
