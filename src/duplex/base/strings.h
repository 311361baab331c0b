// Public. Small text helpers shared by the parsers of every layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duplex {

// Removes leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view s) noexcept;

// ASCII lower-case copy.
std::string to_lower(std::string_view s);

// Parses an unsigned decimal number with no sign, no spaces and no trailing text.
// Returns nullopt when `s` is empty, has another character, or exceeds `max`.
std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) noexcept;

// What a UTF-8 lead byte announces (RFC 3629's table): how many continuation bytes follow,
// and the range of the first of them, which rules out overlongs (E0, F0), surrogates (ED) and
// code points past U+10FFFF (F4). `valid` is false for a byte that never starts a character
// (80..C1, F5..FF).
struct Utf8Lead {
  bool valid = false;
  std::uint8_t need = 0;  // continuation bytes after the lead
  std::uint8_t lo = 0x80, hi = 0xbf;
};
constexpr Utf8Lead utf8_lead(std::uint8_t b) noexcept {
  if (b < 0x80) return {true, 0};
  if (b >= 0xc2 && b <= 0xdf) return {true, 1};
  if (b >= 0xe0 && b <= 0xef)
    return {true, 2, static_cast<std::uint8_t>(b == 0xe0 ? 0xa0 : 0x80),
            static_cast<std::uint8_t>(b == 0xed ? 0x9f : 0xbf)};
  if (b >= 0xf0 && b <= 0xf4)
    return {true, 3, static_cast<std::uint8_t>(b == 0xf0 ? 0x90 : 0x80),
            static_cast<std::uint8_t>(b == 0xf4 ? 0x8f : 0xbf)};
  return {};
}

// Quotes text from the input for a one-line error message: 'text'. Control characters and
// bytes that are not UTF-8 are shown as \xNN; past kQuoteMax characters the text is cut at a
// character boundary and the full size added: 'aaaa...' (102400 bytes). Every parser quotes
// through this one function, so that no error line repeats more than a line's worth of input.
inline constexpr std::size_t kQuoteMax = 40;
std::string quote(std::string_view s);

// What quote() shows between its quotes: `s` with control characters and bytes that are not
// UTF-8 as \xNN, cut after `max` characters (*cut, when given, says whether it was). For a
// peer's text on a terminal or in a log line.
std::string escape(std::string_view s, std::size_t max, bool* cut = nullptr);

// The one character starting at byte `at` of `s`: a whole UTF-8 sequence (1 to 4 bytes), or
// the single byte when no valid sequence starts there. For "unexpected character 'é'".
std::string_view char_at(std::string_view s, std::size_t at) noexcept;

}  // namespace duplex
