// Public. A CIDR prefix: an address and a prefix length, as written by the user.
//
// It keeps the address given (10.1.2.3/8 stays 10.1.2.3/8; network() is 10.0.0.0), so one
// value answers both "which host" and "which network". Accepted notations:
//   10.1.2.3/8          a length, 0..32 for IPv4 and 0..128 for IPv6 (2001:db8::1/64)
//   10.1.2.3 255.0.0.0  a dotted mask after spaces, or after '/': 10.1.2.3/255.0.0.0
//   10.1.2.3 0xff000000 a hex mask
//   10.1.2.3 0.255.255.255
//                       a wildcard (inverse, Cisco ACL) mask, recognised by its shape
//                       (zeros then ones) and reported as MaskNotation::wildcard
//   10.1.2.3            no mask: a host prefix (/32 or /128), reported as MaskNotation::none
// 0.0.0.0 and 255.255.255.255 are read as netmasks (/0 and /32), never as wildcards.
// A mask whose one bits are not contiguous (255.0.255.0) is an error that says so.
//
// All members are safe to call from any thread (it is a value).
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/inet/address.h"

namespace duplex::inet {

// How the mask of a parsed prefix was written.
enum class MaskNotation : std::uint8_t { none, length, dotted, hex, wildcard };

std::string_view to_string(MaskNotation n) noexcept;  // "length", "wildcard"...

class Prefix {
 public:
  // 0.0.0.0/0.
  Prefix() noexcept = default;
  // Throws duplex::Error when length exceeds the family's 32 or 128 bits.
  Prefix(const Address& address, unsigned length);

  // Throws duplex::ParseError with a one-line reason. `notation`, when given, receives how
  // the mask was written, so a caller can say "0.0.0.255 read as a wildcard mask".
  static Prefix parse(std::string_view text, MaskNotation* notation = nullptr);
  static std::optional<Prefix> try_parse(std::string_view text) noexcept;

  // A mask on its own: "24", "/24", "255.255.255.0", "0xffffff00" or a wildcard
  // "0.0.0.255"; returns its length. IPv6 masks are lengths only. Throws ParseError.
  static unsigned parse_mask(std::string_view text, Family family = Family::v4,
                             MaskNotation* notation = nullptr);
  // The length of a contiguous netmask; nullopt when its one bits are not contiguous.
  static std::optional<unsigned> mask_length(const Address& mask) noexcept;
  // The netmask of `length` bits: mask_of(Family::v4, 24) == 255.255.255.0.
  static Address mask_of(Family family, unsigned length) noexcept;

  const Address& address() const noexcept { return address_; }
  unsigned length() const noexcept { return length_; }
  Family family() const noexcept { return address_.family(); }
  unsigned bits() const noexcept { return address_.bits(); }

  Address mask() const noexcept { return mask_of(family(), length_); }
  Address wildcard() const noexcept { return ~mask(); }
  // First address of the block (host bits zero).
  Address network() const noexcept;
  // Last address of the block (host bits one).
  Address last() const noexcept;
  // The directed broadcast of an IPv4 network. None for /31 (point-to-point, RFC 3021),
  // for /32 (a host route) and for IPv6, which has no broadcast.
  std::optional<Address> broadcast() const noexcept;
  // Usable hosts. IPv4 /0../30: network+1 .. broadcast-1; /31: both addresses (RFC 3021);
  // /32: the one address. IPv6: every address, including the network address, which is
  // also the Subnet-Router anycast address (RFC 4291 2.6.1).
  Address first_host() const noexcept;
  Address last_host() const noexcept;

  // 2^(bits - length); nullopt only for ::/0, whose 2^128 does not fit. Exact as text:
  std::optional<uint128> address_count() const noexcept;
  std::string address_count_decimal() const;
  // Hosts per the rules of first_host()/last_host(): /24 254, /31 2, /32 1, IPv6 /64 2^64.
  std::optional<uint128> host_count() const noexcept;
  std::string host_count_decimal() const;

  // This prefix with the host bits cleared: 10.1.2.3/8 -> 10.0.0.0/8.
  Prefix masked() const noexcept { return Prefix(network(), length_, Unchecked{}); }
  bool is_network() const noexcept { return address_ == network(); }

  bool contains(const Address& a) const noexcept;
  // True when `p` lies entirely inside this prefix (so a prefix contains itself).
  bool contains(const Prefix& p) const noexcept;

  // Whether a and b have the same network under the mask (any mask, as the AND is done
  // bit by bit). Different families are never in the same subnet.
  static bool same_subnet(const Address& a, const Address& b, const Address& mask) noexcept;
  static bool same_subnet(const Address& a, const Address& b, unsigned length) noexcept;

  // "10.1.2.3/8": the address as given and the length.
  std::string to_string() const;

  friend bool operator==(const Prefix&, const Prefix&) = default;
  friend std::strong_ordering operator<=>(const Prefix&, const Prefix&) = default;

 private:
  struct Unchecked {};
  Prefix(const Address& address, unsigned length, Unchecked) noexcept
      : address_(address), length_(static_cast<std::uint8_t>(length)) {}

  Address address_;
  std::uint8_t length_ = 0;
};

}  // namespace duplex::inet

template <>
struct std::hash<duplex::inet::Prefix> {
  std::size_t operator()(const duplex::inet::Prefix& p) const noexcept {
    return std::hash<duplex::inet::Address>{}(p.address()) * 31 + p.length();
  }
};
