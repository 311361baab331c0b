// Address: construction, printing in every notation, and bit arithmetic.
#include "duplex/inet/address.h"

#include "duplex/base/error.h"

namespace duplex::inet {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

void append_v4(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out += std::to_string((v >> shift) & 0xff);
    if (shift != 0) out.push_back('.');
  }
}

void append_group(std::string& out, unsigned g, bool pad) {
  bool started = pad;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const unsigned nibble = (g >> shift) & 0xf;
    if (nibble != 0 || started || shift == 0) {
      out.push_back(kHexLower[nibble]);
      started = true;
    }
  }
}

}  // namespace

Address Address::v4(std::uint32_t value) noexcept {
  Address a;
  a.bytes_[0] = static_cast<std::uint8_t>(value >> 24);
  a.bytes_[1] = static_cast<std::uint8_t>(value >> 16);
  a.bytes_[2] = static_cast<std::uint8_t>(value >> 8);
  a.bytes_[3] = static_cast<std::uint8_t>(value);
  return a;
}

Address Address::v6(const std::array<std::uint8_t, 16>& bytes) noexcept {
  Address a;
  a.bytes_ = bytes;
  a.family_ = Family::v6;
  return a;
}

Address Address::from_value(Family family, uint128 value) noexcept {
  if (family == Family::v4) return v4(static_cast<std::uint32_t>(value));
  std::array<std::uint8_t, 16> b{};
  for (int i = 15; i >= 0; --i) {
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value);
    value >>= 8;
  }
  return v6(b);
}

Address Address::v4_mapped(std::uint32_t value) noexcept {
  return from_value(Family::v6, (uint128{0xffff} << 32) | value);
}

uint128 Address::value() const noexcept {
  uint128 v = 0;
  for (std::size_t i = 0; i < size(); ++i) v = (v << 8) | bytes_[i];
  return v;
}

std::uint32_t Address::to_uint32() const noexcept {
  return is_v4() ? static_cast<std::uint32_t>(value()) : 0;
}

bool Address::is_v4_mapped() const noexcept {
  if (!is_v6()) return false;
  for (std::size_t i = 0; i < 10; ++i)
    if (bytes_[i] != 0) return false;
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

Address Address::unmapped() const noexcept {
  return is_v4_mapped() ? v4(static_cast<std::uint32_t>(value())) : *this;
}

std::string Address::to_string() const {
  std::string out;
  if (is_v4()) {
    out.reserve(15);
    append_v4(out, to_uint32());
    return out;
  }
  if (is_v4_mapped()) {
    out = "::ffff:";
    append_v4(out, static_cast<std::uint32_t>(value()));
    return out;
  }
  unsigned g[8];
  for (std::size_t i = 0; i < 8; ++i) g[i] = (unsigned{bytes_[2 * i]} << 8) | bytes_[2 * i + 1];
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first on a tie.
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  out.reserve(39);
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out.push_back(':');
    append_group(out, g[i], false);
  }
  return out;
}

std::string Address::to_expanded() const {
  if (is_v4()) return to_string();
  std::string out;
  out.reserve(39);
  for (std::size_t i = 0; i < 8; ++i) {
    if (i) out.push_back(':');
    append_group(out, (unsigned{bytes_[2 * i]} << 8) | bytes_[2 * i + 1], true);
  }
  return out;
}

std::string Address::to_hex() const {
  std::string out = "0x";
  for (std::size_t i = 0; i < size(); ++i) {
    out.push_back(kHexUpper[bytes_[i] >> 4]);
    out.push_back(kHexUpper[bytes_[i] & 0xf]);
  }
  return out;
}

std::string Address::to_decimal() const { return u128::to_decimal(value()); }

std::string Address::to_binary() const {
  std::string out;
  const std::size_t group = is_v4() ? 1 : 2;  // bytes between separators
  const char sep = is_v4() ? '.' : ':';
  for (std::size_t i = 0; i < size(); ++i) {
    if (i && i % group == 0) out.push_back(sep);
    for (int bit = 7; bit >= 0; --bit) out.push_back((bytes_[i] >> bit) & 1 ? '1' : '0');
  }
  return out;
}

std::string Address::reverse_dns() const {
  std::string out;
  if (is_v4()) {
    for (int i = 3; i >= 0; --i) {
      out += std::to_string(bytes_[static_cast<std::size_t>(i)]);
      out.push_back('.');
    }
    return out + "in-addr.arpa";
  }
  for (int i = 15; i >= 0; --i) {
    const auto b = bytes_[static_cast<std::size_t>(i)];
    out.push_back(kHexLower[b & 0xf]);
    out.push_back('.');
    out.push_back(kHexLower[b >> 4]);
    out.push_back('.');
  }
  return out + "ip6.arpa";
}

char Address::ipv4_class() const noexcept {
  if (!is_v4()) return 0;
  const auto top = bytes_[0];
  if (top < 128) return 'A';
  if (top < 192) return 'B';
  if (top < 224) return 'C';
  if (top < 240) return 'D';
  return 'E';
}

static void require_same_family(const Address& a, const Address& b) {
  if (a.family() != b.family())
    throw Error("cannot combine the IPv4 and IPv6 addresses " + a.to_string() + " and " +
                b.to_string());
}

Address Address::operator&(const Address& mask) const {
  require_same_family(*this, mask);
  Address r = *this;
  for (std::size_t i = 0; i < 16; ++i) r.bytes_[i] &= mask.bytes_[i];
  return r;
}

Address Address::operator|(const Address& other) const {
  require_same_family(*this, other);
  Address r = *this;
  for (std::size_t i = 0; i < 16; ++i) r.bytes_[i] |= other.bytes_[i];
  return r;
}

Address Address::operator~() const noexcept {
  return from_value(family_, ~value() & u128::ones(bits()));
}

Address Address::operator+(uint128 n) const noexcept {
  return from_value(family_, (value() + n) & u128::ones(bits()));
}

Address Address::operator-(uint128 n) const noexcept {
  return from_value(family_, (value() - n) & u128::ones(bits()));
}

}  // namespace duplex::inet
