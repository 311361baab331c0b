#include "duplex/base/strings.h"

namespace duplex {

std::string_view trim(std::string_view s) noexcept {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(kSpace);
  return s.substr(first, last - first + 1);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) noexcept {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (max - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

std::string_view char_at(std::string_view s, std::size_t at) noexcept {
  if (at >= s.size()) return {};
  const auto lead = utf8_lead(static_cast<std::uint8_t>(s[at]));
  const std::size_t len = 1u + lead.need;
  if (!lead.valid || len == 1 || at + len > s.size()) return s.substr(at, 1);
  for (std::size_t k = 1; k < len; ++k) {
    const auto c = static_cast<std::uint8_t>(s[at + k]);
    if (c < (k == 1 ? lead.lo : 0x80) || c > (k == 1 ? lead.hi : 0xbf)) return s.substr(at, 1);
  }
  return s.substr(at, len);
}

std::string escape(std::string_view s, std::size_t max, bool* cut) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::size_t shown = 0;
  std::size_t at = 0;
  while (at < s.size() && shown < max) {
    const auto ch = char_at(s, at);
    const auto c = static_cast<unsigned char>(ch[0]);
    if (ch.size() == 1 && (c < 0x20 || c >= 0x7f)) {
      out.append("\\x").push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.append(ch);
    }
    at += ch.size();
    ++shown;
  }
  if (cut != nullptr) *cut = at < s.size();
  return out;
}

std::string quote(std::string_view s) {
  bool cut = false;
  std::string out = "'" + escape(s, kQuoteMax, &cut) + "'";
  if (cut) {
    out.insert(out.size() - 1, "...");
    out += " (" + std::to_string(s.size()) + " bytes)";
  }
  return out;
}

}  // namespace duplex
