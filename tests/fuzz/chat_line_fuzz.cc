// libFuzzer target for the TCP chat port's lines (apps/chat/chat_parse.cc): framing as the
// session does it (LF, an optional CR, at most kMaxTextBytes), then parse_chat_line() and the
// name check of /nick and /join; no socket, no database. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target chat_line_fuzz
//   build/fuzz/tests/chat_line_fuzz -max_total_time=20 tests/fuzz/corpus/chat_line
// Besides "no crash, no sanitizer report", it checks that a command's word and argument are
// parts of the line, that the argument has no blank at either end, and that a line starting
// with '/' is a command, except "/me TEXT", which is said (an action). The same bytes also
// go through the /auth gate (chat_auth.cc), whole and split in two: the verdict and what is
// left for the session must not depend on where the reads split.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "duplex/apps/chat/chat_auth.h"
#include "duplex/apps/chat/chat_hub.h"
#include "duplex/apps/chat/chat_parse.h"
#include "duplex/apps/chat/chat_protocol.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check(std::string_view line) {
  using duplex::apps::ChatLine;
  const ChatLine parsed = duplex::apps::parse_chat_line(line);
  if ((parsed.kind == ChatLine::Kind::empty) != line.empty()) std::abort();
  if (!inside(parsed.word, line) || !inside(parsed.arg, line)) std::abort();
  const bool command = parsed.kind != ChatLine::Kind::empty &&
                       parsed.kind != ChatLine::Kind::not_utf8 &&
                       parsed.kind != ChatLine::Kind::say;
  // "/me TEXT" is said (an action); a "/me" with no text is a command like any other.
  const bool action = parsed.kind == ChatLine::Kind::say && line.substr(0, 4) == "/me ";
  if (action && line.find_first_not_of(" \t", 4) == std::string_view::npos) std::abort();
  if (command !=
      (!line.empty() && line[0] == '/' && parsed.kind != ChatLine::Kind::not_utf8 && !action))
    std::abort();
  if (!parsed.arg.empty()) {
    for (char end : {parsed.arg.front(), parsed.arg.back()})
      if (end == ' ' || end == '\t') std::abort();
  }
  if (parsed.kind == ChatLine::Kind::nick || parsed.kind == ChatLine::Kind::join) {
    std::string why;
    const bool ok = duplex::apps::ChatHub::valid_name(parsed.arg, &why);
    if (!ok && why.empty()) std::abort();  // a refusal always says why
  }
}

void check_auth(std::string_view input) {
  using duplex::apps::ChatAuth;
  ChatAuth whole("t0ken");
  const std::size_t used = whole.feed(input);
  if (used > input.size()) std::abort();
  if (whole.state() == ChatAuth::State::refused && whole.refusal().empty()) std::abort();
  if (whole.state() == ChatAuth::State::admitted && input.find("/auth") == std::string_view::npos)
    std::abort();
  ChatAuth split("t0ken");
  const std::size_t cut = input.empty() ? 0 : static_cast<unsigned char>(input[0]) % input.size();
  std::size_t used_split = split.feed(input.substr(0, cut));
  if (split.state() == ChatAuth::State::waiting) used_split += split.feed(input.substr(cut));
  if (split.state() != whole.state()) std::abort();
  if (whole.state() == ChatAuth::State::admitted && used_split != used) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_auth(std::string_view(reinterpret_cast<const char*>(data), size));
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const auto lf = rest.find('\n');
    std::string_view line = rest.substr(0, lf);
    rest = lf == std::string_view::npos ? std::string_view() : rest.substr(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() <= duplex::apps::chat::kMaxTextBytes) check(line);
  }
  return 0;
}
