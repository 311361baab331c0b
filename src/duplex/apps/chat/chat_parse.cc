#include "duplex/apps/chat/chat_parse.h"

#include <cstdint>
#include <span>

#include "duplex/proto/websocket_utf8.h"

namespace duplex::apps {
namespace {

std::string_view trim_blanks(std::string_view s) noexcept {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

ChatLine parse_chat_line(std::string_view line) noexcept {
  using Kind = ChatLine::Kind;
  if (line.empty()) return {};
  if (!websocket::is_valid_utf8(std::span<const std::uint8_t>(
          reinterpret_cast<const std::uint8_t*>(line.data()), line.size())))
    return {Kind::not_utf8, {}, {}};
  if (line[0] != '/') return {Kind::say, {}, {}};
  const auto space = line.find(' ');
  ChatLine out{
      Kind::unknown, line.substr(0, space),
      space == std::string_view::npos ? std::string_view() : trim_blanks(line.substr(space + 1))};
  static constexpr std::pair<std::string_view, Kind> kCommands[] = {
      {"/nick", Kind::nick}, {"/join", Kind::join}, {"/who", Kind::who},  {"/rooms", Kind::rooms},
      {"/help", Kind::help}, {"/quit", Kind::quit}, {"/auth", Kind::auth}};
  for (const auto& [word, kind] : kCommands)
    if (out.word == word) out.kind = kind;
  // "/me waves" is said as it is: an action ("* ann waves"; CTCP ACTION on IRC).
  if (out.word == "/me" && !out.arg.empty()) return {Kind::say, {}, {}};
  return out;
}

std::optional<WsChatRequest> parse_ws_chat_request(std::string_view frame) {
  const auto j = nlohmann::json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return std::nullopt;
  auto field = [&j](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  WsChatRequest r;
  r.type = type->get<std::string>();
  r.text = field("text");
  r.name = field("name");
  r.room = field("room");
  if (auto id = j.find("client_id"); id != j.end()) r.client_id = *id;
  return r;
}

}  // namespace duplex::apps
