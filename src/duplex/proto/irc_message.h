// Public. One IRC message (RFC 1459 and 2812, with IRCv3 message tags): the codec that
// `duplex serve`'s IRC door reads clients' lines with and writes its own.
//
//   [@tags] [:prefix] COMMAND [param ...] [:trailing param]
//
// Tags are kept raw (the door negotiates no capability that needs them); the command is
// upper-cased; a numeric reply is three digits; at most 15 parameters, as RFC 2812 says.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::irc {

struct Message {
  std::string tags;    // without the '@'
  std::string prefix;  // without the ':'
  std::string command;
  std::vector<std::string> params;  // the trailing one included, without its ':'
};

inline constexpr std::size_t kMaxParams = 15;

// Parses one line, without its CR LF. nullopt for a line that has no command (empty,
// spaces, tags or a prefix alone) or a command that is neither letters nor three digits.
std::optional<Message> parse(std::string_view line);

// The line "[:prefix ]COMMAND p1 p2 :last\r\n". The last parameter gets its ':' when it is
// empty, holds a space or starts with ':'; a CR, LF or NUL anywhere becomes a space (a
// peer's text cannot end the line and start a command of its own), and a space in the
// prefix or a middle parameter '_' (an empty middle one is "*", one starting with ':' gets
// a '*' before it), so that the line parses back into the same parts.
std::string line(std::string_view prefix, std::string_view command,
                 std::initializer_list<std::string_view> params);

}  // namespace duplex::irc
