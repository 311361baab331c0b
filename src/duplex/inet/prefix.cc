// Prefix: parsing of lengths and masks, and the fields of a CIDR block.
#include "duplex/inet/prefix.h"

#include "duplex/base/error.h"
#include "duplex/base/strings.h"

namespace duplex::inet {
namespace {

constexpr std::string_view kBlank = " \t";

std::string family_name(Family f) { return f == Family::v4 ? "IPv4" : "IPv6"; }

}  // namespace

std::string_view to_string(MaskNotation n) noexcept {
  switch (n) {
    case MaskNotation::none:
      return "none";
    case MaskNotation::length:
      return "length";
    case MaskNotation::dotted:
      return "dotted";
    case MaskNotation::hex:
      return "hex";
    case MaskNotation::wildcard:
      return "wildcard";
  }
  return "none";
}

Prefix::Prefix(const Address& address, unsigned length) : address_(address) {
  if (length > address.bits())
    throw Error("prefix length " + std::to_string(length) + " is above " +
                std::to_string(address.bits()) + ", the " + family_name(address.family()) +
                " maximum");
  length_ = static_cast<std::uint8_t>(length);
}

Address Prefix::mask_of(Family family, unsigned length) noexcept {
  const unsigned bits = family == Family::v4 ? 32 : 128;
  if (length > bits) length = bits;
  return Address::from_value(family, u128::ones(bits) & ~u128::ones(bits - length));
}

std::optional<unsigned> Prefix::mask_length(const Address& mask) noexcept {
  const uint128 inverse = ~mask.value() & u128::ones(mask.bits());
  if ((inverse & (inverse + 1)) != 0) return std::nullopt;  // inverse must be 0...01...1
  return mask.bits() - u128::bit_width(inverse);
}

unsigned Prefix::parse_mask(std::string_view text, Family family, MaskNotation* notation) {
  const std::string max = family == Family::v4 ? "32" : "128";
  if (text.starts_with('/')) text.remove_prefix(1);
  if (text.empty()) throw ParseError("the mask is empty; give a length such as 24");
  const bool is_hex = text.size() > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  if (!is_hex && text.find('.') == std::string_view::npos) {
    const auto n = parse_uint(text, 0xffffffffULL);
    if (!n)
      throw ParseError(quote(text) + " is not a prefix length (0-" + max +
                       (family == Family::v4 ? "), a dotted mask or a 0x hex mask" : ")"));
    if (*n > (family == Family::v4 ? 32u : 128u))
      throw ParseError("prefix length " + std::to_string(*n) + " is above " + max + ", the " +
                       family_name(family) + " maximum");
    if (notation) *notation = MaskNotation::length;
    return static_cast<unsigned>(*n);
  }
  if (family == Family::v6)
    throw ParseError(quote(text) +
                     " is not an IPv6 prefix length: IPv6 takes a length (/64), "
                     "not a mask");
  const auto mask = Address::try_parse(text);
  if (!mask || !mask->is_v4())
    throw ParseError(quote(text) +
                     " is not a netmask: expected 255.255.255.0, 0xffffff00 or "
                     "a length such as 24");
  if (auto len = mask_length(*mask)) {
    if (notation) *notation = is_hex ? MaskNotation::hex : MaskNotation::dotted;
    return *len;
  }
  const uint128 m = mask->value();
  if ((m & (m + 1)) == 0) {  // 0...01...1: the ones of a wildcard mask are the host bits
    if (notation) *notation = MaskNotation::wildcard;
    return 32 - u128::bit_width(m);
  }
  throw ParseError(quote(text) +
                   " is not a netmask: its one bits are not contiguous (a netmask is ones "
                   "then zeros, like 255.255.0.0; a wildcard mask zeros then ones)");
}

Prefix Prefix::parse(std::string_view text, MaskNotation* notation) {
  std::string_view addr = text;
  std::string_view mask;
  bool has_mask = false;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    mask = text.substr(slash + 1);
    has_mask = true;
    if (mask.empty()) throw ParseError(quote(text) + " is not a prefix: nothing after '/'");
  } else if (auto blank = text.find_first_of(kBlank); blank != std::string_view::npos) {
    const auto mask_at = text.find_first_not_of(kBlank, blank);
    if (blank == 0 || mask_at == std::string_view::npos)
      throw ParseError(quote(text) + " is not a prefix: unexpected leading or trailing space");
    addr = text.substr(0, blank);
    mask = text.substr(mask_at);
    has_mask = true;
  }
  if (has_mask && addr.empty())
    throw ParseError(quote(text) +
                     " is not a prefix: no address before the mask; write one, e.g. 192.0.2.0/24");
  if (has_mask && mask.find_first_of(kBlank) != std::string_view::npos)
    throw ParseError(quote(text) + " is not a prefix: unexpected text after the mask");
  const Address a = Address::parse(addr);
  if (!has_mask) {
    if (notation) *notation = MaskNotation::none;
    return Prefix(a, a.bits(), Unchecked{});
  }
  try {
    return Prefix(a, parse_mask(mask, a.family(), notation), Unchecked{});
  } catch (const ParseError& e) {
    throw ParseError(quote(text) + " is not a prefix: " + e.what());
  }
}

std::optional<Prefix> Prefix::try_parse(std::string_view text) noexcept {
  try {
    return parse(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Address Prefix::network() const noexcept { return address_ & mask(); }

Address Prefix::last() const noexcept { return address_ | wildcard(); }

std::optional<Address> Prefix::broadcast() const noexcept {
  if (family() == Family::v6 || length_ > 30) return std::nullopt;
  return last();
}

Address Prefix::first_host() const noexcept {
  if (family() == Family::v4 && length_ <= 30) return network() + 1;
  return network();
}

Address Prefix::last_host() const noexcept {
  if (family() == Family::v4 && length_ <= 30) return last() - 1;
  return last();
}

std::optional<uint128> Prefix::address_count() const noexcept {
  const unsigned host_bits = bits() - length_;
  if (host_bits >= 128) return std::nullopt;
  return uint128{1} << host_bits;
}

std::string Prefix::address_count_decimal() const { return u128::pow2_decimal(bits() - length_); }

std::optional<uint128> Prefix::host_count() const noexcept {
  auto n = address_count();
  if (n && family() == Family::v4 && length_ <= 30) *n -= 2;
  return n;
}

std::string Prefix::host_count_decimal() const {
  auto n = host_count();
  return n ? u128::to_decimal(*n) : address_count_decimal();
}

bool Prefix::contains(const Address& a) const noexcept {
  return a.family() == family() && (a & mask()) == network();
}

bool Prefix::contains(const Prefix& p) const noexcept {
  return p.family() == family() && p.length_ >= length_ && contains(p.address_);
}

bool Prefix::same_subnet(const Address& a, const Address& b, const Address& mask) noexcept {
  if (a.family() != b.family() || a.family() != mask.family()) return false;
  return (a & mask) == (b & mask);
}

bool Prefix::same_subnet(const Address& a, const Address& b, unsigned length) noexcept {
  return a.family() == b.family() && same_subnet(a, b, mask_of(a.family(), length));
}

std::string Prefix::to_string() const {
  return address_.to_string() + "/" + std::to_string(length_);
}

}  // namespace duplex::inet
