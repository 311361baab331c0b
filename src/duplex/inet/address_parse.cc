// Address parsing: one pass over the text, no allocation unless it fails. The parser records
// why it failed as a small Failure; only Address::parse() turns that into a message, so
// try_parse() stays noexcept and cheap.
#include <cstring>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"
#include "duplex/inet/address.h"

namespace duplex::inet {
namespace {

enum class Why : std::uint8_t {
  none,
  empty,
  unknown_form,
  v4_octet_count,
  v4_empty_octet,
  v4_bad_char,
  v4_above_255,
  v4_leading_zero,
  v4_mixed_binary,
  v4_int_too_big,
  v4_int_leading_zero,
  v4_hex_empty,
  v4_hex_too_long,
  v4_hex_bad_char,
  v6_zone,
  v6_brackets,
  v6_bad_char,
  v6_group_too_long,
  v6_empty_group,
  v6_single_colon_start,
  v6_single_colon_end,
  v6_two_double_colons,
  v6_too_many_groups,
  v6_too_few_groups,
  v6_double_colon_no_room,
  v6_v4_not_last,
  v6_v4_bad,
};

struct Failure {
  Why why = Why::none;
  std::string_view token;  // the offending part of the text
  std::uint64_t count = 0;
};

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view first_bad(std::string_view token, bool (*ok)(char)) noexcept {
  for (std::size_t i = 0; i < token.size(); ++i)
    if (!ok(token[i])) return char_at(token, i);  // a whole UTF-8 character, for the message
  return {};
}

bool is_binary_octet(std::string_view p) noexcept {
  if (p.size() != 8) return false;
  for (char c : p)
    if (c != '0' && c != '1') return false;
  return true;
}

// Dotted decimal or dotted binary; `allow_binary` is false inside IPv6.
bool parse_dotted(std::string_view text, bool allow_binary, std::uint32_t& out,
                  Failure& f) noexcept {
  std::string_view parts[4];
  std::size_t n = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i != text.size() && text[i] != '.') continue;
    const auto part = text.substr(start, i - start);
    if (n < 4) parts[n] = part;
    ++n;
    if (part.empty()) {
      f = {Why::v4_empty_octet, part, n};
      return false;
    }
    if (auto bad = first_bad(part, [](char c) { return is_digit(c); }); !bad.empty()) {
      f = {Why::v4_bad_char, bad, 0};
      return false;
    }
    start = i + 1;
  }
  if (n != 4) {
    f = {Why::v4_octet_count, text, n};
    return false;
  }
  std::size_t binary = 0;
  for (const auto& p : parts) binary += is_binary_octet(p) ? 1u : 0u;
  std::uint32_t v = 0;
  if (allow_binary && binary == 4) {
    for (const auto& p : parts)
      for (char c : p) v = (v << 1) | static_cast<std::uint32_t>(c - '0');
    out = v;
    return true;
  }
  if (allow_binary && binary > 0) {
    f = {Why::v4_mixed_binary, text, 0};
    return false;
  }
  for (const auto& p : parts) {
    if (p.size() > 3) {
      f = {Why::v4_above_255, p, 0};
      return false;
    }
    unsigned octet = 0;
    for (char c : p) octet = octet * 10 + static_cast<unsigned>(c - '0');
    if (octet > 255) {
      f = {Why::v4_above_255, p, 0};
      return false;
    }
    if (p.size() > 1 && p[0] == '0') {
      f = {Why::v4_leading_zero, p, octet};
      return false;
    }
    v = (v << 8) | octet;
  }
  out = v;
  return true;
}

// The common case in one pass: canonical dotted decimal. It accepts a subset of what
// parse_dotted() accepts, with the same value; anything else falls through to it.
bool fast_dotted(std::string_view t, std::uint32_t& out) noexcept {
  std::uint32_t v = 0;
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    const std::size_t start = i;
    unsigned octet = 0;
    while (i < t.size() && i - start < 3 && is_digit(t[i]))
      octet = octet * 10 + static_cast<unsigned>(t[i++] - '0');
    if (i == start || octet > 255 || (i - start > 1 && t[start] == '0')) return false;
    v = (v << 8) | octet;
    if (part < 3) {
      if (i >= t.size() || t[i] != '.') return false;
      ++i;
    }
  }
  if (i != t.size()) return false;
  out = v;
  return true;
}

bool parse_v4_integer(std::string_view text, std::uint32_t& out, Failure& f) noexcept {
  if (auto bad = first_bad(text, [](char c) { return is_digit(c); }); !bad.empty()) {
    f = {Why::unknown_form, bad, 0};
    return false;
  }
  if (text.size() > 1 && text[0] == '0') {
    f = {Why::v4_int_leading_zero, text, 0};
    return false;
  }
  auto v = parse_uint(text, 0xffffffffULL);
  if (!v) {
    f = {Why::v4_int_too_big, text, 0};
    return false;
  }
  out = static_cast<std::uint32_t>(*v);
  return true;
}

bool parse_v4_hex(std::string_view digits, std::uint32_t& out, Failure& f) noexcept {
  if (digits.empty()) {
    f = {Why::v4_hex_empty, digits, 0};
    return false;
  }
  if (auto bad = first_bad(digits, [](char c) { return hex_value(c) >= 0; }); !bad.empty()) {
    f = {Why::v4_hex_bad_char, bad, 0};
    return false;
  }
  if (digits.size() > 8) {
    f = {Why::v4_hex_too_long, digits, digits.size()};
    return false;
  }
  std::uint32_t v = 0;
  for (char c : digits) v = (v << 4) | static_cast<std::uint32_t>(hex_value(c));
  out = v;
  return true;
}

bool parse_v6(std::string_view text, std::array<std::uint8_t, 16>& out, Failure& f) noexcept {
  if (auto pct = text.find('%'); pct != std::string_view::npos) {
    f = {Why::v6_zone, text.substr(pct), 0};
    return false;
  }
  if (text.front() == '[' || text.back() == ']') {
    f = {Why::v6_brackets, text, 0};
    return false;
  }
  std::uint16_t groups[8] = {};
  std::size_t n = 0;
  int gap = -1;  // index of the group where '::' stands
  std::size_t i = 0;
  if (text.starts_with("::")) {
    gap = 0;
    i = 2;
  } else if (text.starts_with(":")) {
    f = {Why::v6_single_colon_start, text, 0};
    return false;
  }
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && text[j] != ':') ++j;
    const auto token = text.substr(i, j - i);
    if (token.empty()) {
      f = {Why::v6_empty_group, text, 0};
      return false;
    }
    if (token.find('.') != std::string_view::npos) {
      if (j != text.size()) {
        f = {Why::v6_v4_not_last, token, 0};
        return false;
      }
      if (n > 6) {
        f = {Why::v6_too_many_groups, text, n + 2};
        return false;
      }
      std::uint32_t v4 = 0;
      Failure inner;
      if (!parse_dotted(token, false, v4, inner)) {
        f = {Why::v6_v4_bad, token, 0};
        return false;
      }
      groups[n++] = static_cast<std::uint16_t>(v4 >> 16);
      groups[n++] = static_cast<std::uint16_t>(v4 & 0xffff);
      i = j;
      break;
    }
    if (auto bad = first_bad(token, [](char c) { return hex_value(c) >= 0; }); !bad.empty()) {
      f = {Why::v6_bad_char, bad, 0};
      return false;
    }
    if (token.size() > 4) {
      f = {Why::v6_group_too_long, token, 0};
      return false;
    }
    if (n == 8) {
      f = {Why::v6_too_many_groups, text, 9};
      return false;
    }
    unsigned g = 0;
    for (char c : token) g = (g << 4) | static_cast<unsigned>(hex_value(c));
    groups[n++] = static_cast<std::uint16_t>(g);
    if (j == text.size()) {
      i = j;
      break;
    }
    i = j + 1;  // past ':'
    if (i < text.size() && text[i] == ':') {
      if (gap >= 0) {
        f = {Why::v6_two_double_colons, text, 0};
        return false;
      }
      gap = static_cast<int>(n);
      ++i;
    } else if (i == text.size()) {
      f = {Why::v6_single_colon_end, text, 0};
      return false;
    }
  }
  if (gap < 0 && n != 8) {
    f = {Why::v6_too_few_groups, text, n};
    return false;
  }
  if (gap >= 0 && n > 7) {
    f = {Why::v6_double_colon_no_room, text, n};
    return false;
  }
  std::uint16_t full[8] = {};
  const auto g = static_cast<std::size_t>(gap < 0 ? 8 : gap);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t at = k < g ? k : 8 - (n - k);
    full[at] = groups[k];
  }
  for (std::size_t k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<std::uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<std::uint8_t>(full[k] & 0xff);
  }
  return true;
}

bool parse_any(std::string_view text, Address& out, Failure& f) noexcept {
  if (text.empty()) {
    f = {Why::empty, text, 0};
    return false;
  }
  if (text.find(':') != std::string_view::npos || text.front() == '[') {
    std::array<std::uint8_t, 16> bytes{};
    if (!parse_v6(text, bytes, f)) return false;
    out = Address::v6(bytes);
    return true;
  }
  std::uint32_t v = 0;
  if (fast_dotted(text, v)) {
    out = Address::v4(v);
    return true;
  }
  bool ok = false;
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    ok = parse_v4_hex(text.substr(2), v, f);
  } else if (text.find('.') != std::string_view::npos) {
    ok = parse_dotted(text, true, v, f);
  } else if (is_digit(text[0])) {
    ok = parse_v4_integer(text, v, f);
  } else {
    f = {Why::unknown_form, text, 0};
  }
  if (ok) out = Address::v4(v);
  return ok;
}

std::string v4_reason(Why why, std::string_view token, std::uint64_t count) {
  switch (why) {
    case Why::v4_octet_count:
      return "it has " + std::to_string(count) + (count == 1 ? " octet" : " octets") +
             "; an IPv4 address has 4";
    case Why::v4_empty_octet:
      return "octet " + std::to_string(count) + " is empty";
    case Why::v4_bad_char:
      return "unexpected character " + quote(token);
    case Why::v4_above_255:
      // Bare reads best ("octet 300"), but the digits may run on for pages: then quote them.
      return "octet " + (token.size() <= kQuoteMax ? std::string(token) : quote(token)) +
             " is above 255";
    case Why::v4_leading_zero: {
      std::string msg = "octet " + quote(token) +
                        " has a leading zero, which inet_aton reads as octal; write " +
                        std::to_string(count);
      bool octal = true;
      unsigned v = 0;
      for (char c : token) {
        octal = octal && c <= '7';
        v = v * 8 + static_cast<unsigned>(c - '0');
      }
      if (octal && v != count) msg += " (or " + std::to_string(v) + " if octal was meant)";
      return msg;
    }
    case Why::v4_mixed_binary:
      return "it mixes 8-bit binary octets with decimal ones; write all four in one notation";
    default:
      return "invalid";
  }
}

std::string describe(std::string_view text, const Failure& f) {
  const std::string q = quote(text);
  const std::string v4 = q + " is not an IPv4 address: ";
  const std::string v6 = q + " is not an IPv6 address: ";
  switch (f.why) {
    case Why::none:
      return q + " is not an IP address";
    case Why::empty:
      return "an empty string is not an IP address";
    case Why::unknown_form:
      return q +
             " is not an IP address: expected dotted decimal (192.0.2.1), a 32-bit number, "
             "0x hex, dotted binary or IPv6 (2001:db8::1)";
    case Why::v4_octet_count:
    case Why::v4_empty_octet:
    case Why::v4_bad_char:
    case Why::v4_above_255:
    case Why::v4_leading_zero:
    case Why::v4_mixed_binary:
      return v4 + v4_reason(f.why, f.token, f.count);
    case Why::v4_int_too_big:
      return v4 + "the number is above 4294967295, the largest 32-bit number";
    case Why::v4_int_leading_zero:
      return v4 + "the number has a leading zero, which inet_aton reads as octal; drop it";
    case Why::v4_hex_empty:
      return v4 + "no hex digits after 0x";
    case Why::v4_hex_too_long:
      return v4 + std::to_string(f.count) + " hex digits, more than the 8 of a 32-bit address";
    case Why::v4_hex_bad_char:
      return v4 + quote(f.token) + " is not a hex digit";
    case Why::v6_zone:
      return v6 + "zone ids (" + quote(f.token) +
             ") are not supported: an address value has no interface; drop " + quote(f.token);
    case Why::v6_brackets:
      return v6 + "brackets belong around an address followed by a port ([::1]:80); drop them";
    case Why::v6_bad_char:
      return v6 + quote(f.token) + " is not a hex digit";
    case Why::v6_group_too_long:
      return v6 + "group " + quote(f.token) + " has more than 4 hex digits";
    case Why::v6_empty_group:
      return v6 + "empty group (only one '::' may stand for zero groups)";
    case Why::v6_single_colon_start:
      return v6 + "it starts with a single ':'";
    case Why::v6_single_colon_end:
      return v6 + "it ends with a single ':'";
    case Why::v6_two_double_colons:
      return v6 + "'::' appears more than once";
    case Why::v6_too_many_groups:
      return v6 + "more than 8 groups";
    case Why::v6_too_few_groups:
      return v6 + "it has " + std::to_string(f.count) +
             " groups; a full IPv6 address has 8 (or use '::' for a run of zeros)";
    case Why::v6_double_colon_no_room:
      return v6 + "'::' stands for at least one zero group, but 8 groups are given already";
    case Why::v6_v4_not_last:
      return v6 + "an embedded IPv4 address (" + quote(f.token) + ") must come last";
    case Why::v6_v4_bad: {
      // The stored failure names the embedded address; re-run it for the offending octet.
      std::uint32_t ignored = 0;
      Failure inner;
      parse_dotted(f.token, false, ignored, inner);
      return v6 + "embedded IPv4 " + quote(f.token) + ": " +
             v4_reason(inner.why, inner.token, inner.count);
    }
  }
  return q + " is not an IP address";
}

}  // namespace

Address Address::parse(std::string_view text) {
  Address a;
  Failure f;
  if (parse_any(text, a, f)) return a;
  throw ParseError(describe(text, f));
}

std::optional<Address> Address::try_parse(std::string_view text) noexcept {
  Address a;
  Failure f;
  if (parse_any(text, a, f)) return a;
  return std::nullopt;
}

}  // namespace duplex::inet
