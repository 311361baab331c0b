#include "duplex/apps/chat/chat_auth.h"

#include <openssl/crypto.h>

#include "duplex/apps/chat/chat_parse.h"

namespace duplex::apps {

bool same_token(std::string_view given, std::string_view token) noexcept {
  return given.size() == token.size() &&
         CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

std::size_t ChatAuth::feed(std::string_view data) {
  std::size_t used = 0;
  while (state_ == State::waiting && used < data.size()) {
    const auto nl = data.find('\n', used);
    const std::size_t end = nl == std::string_view::npos ? data.size() : nl + 1;
    // Empty lines before /auth (Enter pressed in nc) count towards the limit too.
    if (taken_ + (end - used) > kMaxLineBytes) {
      state_ = State::refused;
      refusal_ = "the first line must be /auth TOKEN, and this is longer than " +
                 std::to_string(kMaxLineBytes) + " bytes; disconnected";
      return data.size();
    }
    taken_ += end - used;
    line_.append(data.substr(used, end - used));
    used = end;
    if (nl == std::string_view::npos) break;
    std::string_view line(line_);
    line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) judge(line);
    line_.clear();
  }
  return used;
}

void ChatAuth::judge(std::string_view line) {
  const ChatLine parsed = parse_chat_line(line);
  if (parsed.kind != ChatLine::Kind::auth) {
    state_ = State::refused;
    refusal_ =
        "this chat needs its token: the first line must be /auth TOKEN (the token duplex serve "
        "printed); disconnected";
  } else if (!same_token(parsed.arg, token_)) {
    state_ = State::refused;
    refusal_ = "wrong token; disconnected";
  } else {
    state_ = State::admitted;
  }
}

}  // namespace duplex::apps
