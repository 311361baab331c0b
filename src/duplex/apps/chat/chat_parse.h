// Public. What a chat client sent, read without side effects: one line of the TCP chat port
// and one JSON text frame of /ws/chat (the formats of chat_protocol.h). The sessions act on
// the result; tests/fuzz/chat_line_fuzz.cc and chat_ws_fuzz.cc reach it with no socket and
// no database.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::apps {

// One line of the TCP chat port, framing (LF or CRLF) already removed.
struct ChatLine {
  enum class Kind { empty, not_utf8, say, nick, join, who, rooms, help, quit, auth, unknown };
  Kind kind = Kind::empty;
  std::string_view word;  // the command as typed ("/nick"); empty for a message
  std::string_view arg;   // what follows it, spaces and tabs trimmed
};
ChatLine parse_chat_line(std::string_view line) noexcept;

// One text frame of /ws/chat; nullopt unless it is a JSON object with a string "type".
struct WsChatRequest {
  std::string type;  // "hello", "say", "join", "nick", or anything else (refused by the session)
  std::string text, name, room;  // "" when absent or not a string
  nlohmann::json client_id;      // echoed in the ack as given; null when absent
};
std::optional<WsChatRequest> parse_ws_chat_request(std::string_view frame);

}  // namespace duplex::apps
