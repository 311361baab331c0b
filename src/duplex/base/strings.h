// Public. Small text helpers shared by the parsers of every layer.
#pragma once

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

// Quotes `s` for an error message: 'text', shortened when very long.
std::string quote(std::string_view s);

}  // namespace duplex
