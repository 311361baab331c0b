#include "duplex/link/mac_address.h"

#include <algorithm>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"

namespace duplex::link {
namespace {

constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_separator(char c) noexcept { return c == ':' || c == '-' || c == '.'; }

// Why a text is not a MAC address. Kept free of allocation so that try_parse can be
// noexcept; parse() turns it into the message.
struct Outcome {
  enum class Problem {
    none,
    empty,
    bad_char,          // `group` (one character) is neither a hex digit nor the separator
    mixed_separators,  // `ch` and `other` both appear
    byte_count,        // `count` groups in the colon or hyphen form
    group_too_long,    // `group` has more than two digits (colon or hyphen form)
    empty_group,       // two separators in a row, or one at either end (`ch`)
    bare_length,       // `count` hex digits without separators
    dot_group_count,   // `count` groups in the Cisco dot form
    dot_group_digits,  // `group` is not four digits (Cisco dot form)
  };
  Problem problem = Problem::none;
  MacAddress mac;
  std::size_t count = 0;
  char ch = 0;
  char other = 0;
  std::string_view group;
};

using Problem = Outcome::Problem;

// Splits `text` on `sep` into at most `max` groups; returns the number of groups seen
// (which may exceed `max`, then only the first `max` are stored).
template <std::size_t N>
std::size_t split(std::string_view text, char sep, std::array<std::string_view, N>& groups) {
  std::size_t n = 0;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(sep, start);
    const auto piece = text.substr(start, end == std::string_view::npos ? end : end - start);
    if (n < N) groups[n] = piece;
    ++n;
    if (end == std::string_view::npos) return n;
    start = end + 1;
  }
}

std::uint64_t hex_number(std::string_view digits) noexcept {
  std::uint64_t v = 0;
  for (char c : digits) v = (v << 4) | static_cast<std::uint64_t>(hex_value(c));
  return v;
}

Outcome examine(std::string_view text) noexcept {
  Outcome out;
  if (text.empty()) {
    out.problem = Problem::empty;
    return out;
  }
  char sep = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!is_separator(c)) {
      if (hex_value(c) < 0) {
        out.problem = Problem::bad_char;
        out.group = char_at(text, i);  // a whole UTF-8 character, for the message
        return out;
      }
    } else if (sep == 0) {
      sep = c;
    } else if (c != sep) {
      out.problem = Problem::mixed_separators;
      out.ch = sep;
      out.other = c;
      return out;
    }
  }

  if (sep == 0) {  // bare hex
    if (text.size() != 12) {
      out.problem = Problem::bare_length;
      out.count = text.size();
      return out;
    }
    out.mac = MacAddress::from_uint64(hex_number(text));
    return out;
  }

  const char twice[2] = {sep, sep};
  if (text.front() == sep || text.back() == sep ||
      text.find(std::string_view(twice, 2)) != std::string_view::npos) {
    out.problem = Problem::empty_group;
    out.ch = sep;
    return out;
  }

  if (sep == '.') {  // Cisco: three groups of four hex digits
    std::array<std::string_view, 3> groups;
    const auto n = split(text, sep, groups);
    if (n != 3) {
      out.problem = Problem::dot_group_count;
      out.count = n;
      return out;
    }
    std::uint64_t v = 0;
    for (auto g : groups) {
      if (g.size() != 4) {
        out.problem = Problem::dot_group_digits;
        out.group = g;
        return out;
      }
      v = (v << 16) | hex_number(g);
    }
    out.mac = MacAddress::from_uint64(v);
    return out;
  }

  std::array<std::string_view, 6> groups;
  const auto n = split(text, sep, groups);
  for (std::size_t i = 0; i < std::min<std::size_t>(n, 6); ++i) {
    if (groups[i].size() > 2) {
      out.problem = Problem::group_too_long;
      out.group = groups[i];
      return out;
    }
  }
  if (n != 6) {
    out.problem = Problem::byte_count;
    out.count = n;
    return out;
  }
  std::uint64_t v = 0;
  for (auto g : groups) v = (v << 8) | hex_number(g);
  out.mac = MacAddress::from_uint64(v);
  return out;
}

// A separator for an error message (always one of ':', '-', '.').
std::string shown(char c) { return quote(std::string_view(&c, 1)); }

std::string describe(const Outcome& o) {
  const auto n = std::to_string(o.count);
  switch (o.problem) {
    case Problem::none:
      break;
    case Problem::empty:
      return "it is empty; write six bytes such as 00:1a:2b:3c:4d:5e";
    case Problem::bad_char:
      return quote(o.group) + " is not a hex digit (0-9, a-f)";
    case Problem::mixed_separators:
      return "it mixes " + shown(o.ch) + " and " + shown(o.other) + " separators; use one";
    case Problem::byte_count:
      if (o.count < 6) return n + " of 6 bytes";
      return n + " bytes, a MAC address has 6";
    case Problem::group_too_long:
      return "group " + quote(o.group) + " has " + std::to_string(o.group.size()) +
             " hex digits; a byte between separators has 1 or 2";
    case Problem::empty_group:
      return "an empty group (" + shown(o.ch) + " at an end or twice in a row)";
    case Problem::bare_length:
      return n + (o.count == 1 ? " hex digit" : " hex digits") +
             "; without separators a MAC address has 12";
    case Problem::dot_group_count:
      if (o.count < 3) return n + " of 3 groups in the Cisco dot form (001a.2b3c.4d5e)";
      return n + " groups, but the Cisco dot form has 3 (001a.2b3c.4d5e)" +
             (o.count == 6 ? "; six bytes are written with ':' (00:1a:2b:3c:4d:5e)" : "");
    case Problem::dot_group_digits:
      return "group " + quote(o.group) +
             " needs 4 hex digits in the Cisco dot form (001a.2b3c.4d5e)";
  }
  return "unrecognised form";
}

}  // namespace

MacAddress MacAddress::parse(std::string_view text) {
  const Outcome o = examine(text);
  if (o.problem != Problem::none)
    throw ParseError(quote(text) + " is not a MAC address: " + describe(o));
  return o.mac;
}

std::optional<MacAddress> MacAddress::try_parse(std::string_view text) noexcept {
  const Outcome o = examine(text);
  if (o.problem != Problem::none) return std::nullopt;
  return o.mac;
}

std::string MacAddress::to_string(MacFormat format) const {
  const char* digits = format == MacFormat::hyphen ? kHexUpper : kHexLower;
  std::string out;
  out.reserve(17);
  for (std::size_t i = 0; i < 6; ++i) {
    if (i > 0) {
      if (format == MacFormat::colon) out.push_back(':');
      if (format == MacFormat::hyphen) out.push_back('-');
      if (format == MacFormat::cisco && i % 2 == 0) out.push_back('.');
    }
    out.push_back(digits[bytes_[i] >> 4]);
    out.push_back(digits[bytes_[i] & 0xf]);
  }
  return out;
}

inet::Address MacAddress::ipv6_link_local() const noexcept {
  std::array<std::uint8_t, 16> bytes{0xfe, 0x80};
  const auto id = modified_eui64();
  std::copy(id.begin(), id.end(), bytes.begin() + 8);
  return inet::Address::v6(bytes);
}

std::string to_string(const MacAddress::InterfaceId& id) {
  std::string out;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i > 0) out.push_back(':');
    out.push_back(kHexLower[id[i] >> 4]);
    out.push_back(kHexLower[id[i] & 0xf]);
  }
  return out;
}

}  // namespace duplex::link
