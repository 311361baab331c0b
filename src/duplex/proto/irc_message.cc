#include "duplex/proto/irc_message.h"

#include <cctype>

namespace duplex::irc {
namespace {

bool is_command(std::string_view word) {
  if (word.empty()) return false;
  if (word.size() == 3 && std::isdigit(static_cast<unsigned char>(word[0])) &&
      std::isdigit(static_cast<unsigned char>(word[1])) &&
      std::isdigit(static_cast<unsigned char>(word[2])))
    return true;
  for (char c : word)
    if (!std::isalpha(static_cast<unsigned char>(c))) return false;
  return true;
}

// The next space-separated word of `rest`, which is advanced past it and its spaces.
std::string_view next_word(std::string_view& rest) {
  const auto end = rest.find(' ');
  std::string_view word = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return word;
}

// A CR, LF or NUL would end the line: a space instead; in a word (the prefix, a middle
// parameter) a space would split it: '_' instead.
void append_clean(std::string& out, std::string_view s, bool word) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
    if (word && c == ' ') c = '_';
    out.push_back(c);
  }
}

}  // namespace

std::optional<Message> parse(std::string_view rest) {
  Message m;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (!rest.empty() && rest.front() == '@') {
    rest.remove_prefix(1);
    m.tags = next_word(rest);
  }
  if (!rest.empty() && rest.front() == ':') {
    rest.remove_prefix(1);
    m.prefix = next_word(rest);
  }
  const std::string_view command = next_word(rest);
  if (!is_command(command)) return std::nullopt;
  m.command.reserve(command.size());
  for (char c : command)
    m.command.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  while (!rest.empty()) {
    if (rest.front() == ':' || m.params.size() == kMaxParams - 1) {
      if (rest.front() == ':') rest.remove_prefix(1);
      m.params.emplace_back(rest);
      break;
    }
    m.params.emplace_back(next_word(rest));
  }
  return m;
}

std::string line(std::string_view prefix, std::string_view command,
                 std::initializer_list<std::string_view> params) {
  std::string out;
  if (!prefix.empty()) {
    out.push_back(':');
    append_clean(out, prefix, true);
    out.push_back(' ');
  }
  out.append(command);
  std::size_t i = 0;
  for (std::string_view p : params) {
    out.push_back(' ');
    const bool last = ++i == params.size();
    if (!last && (p.empty() || p.front() == ':')) {
      out.push_back('*');  // no empty middle parameter, none that reads as the last one
      if (p.empty()) continue;
    }
    if (last && (p.empty() || p.find(' ') != std::string_view::npos || p.front() == ':'))
      out.push_back(':');
    append_clean(out, p, !last);
  }
  out.append("\r\n");
  return out;
}

}  // namespace duplex::irc
