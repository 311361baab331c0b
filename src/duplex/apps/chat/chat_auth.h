// Public. The gate of the TCP chat port when `duplex serve` is bound beyond loopback: the
// first line must be "/auth TOKEN". Bytes in, a verdict out, no socket: ChatTcpServer acts
// on it (nothing of the room is sent, and nothing is said in it, before `admitted`), and
// tests/fuzz/chat_line_fuzz.cc reaches it.
//
// Limits: the /auth line may be at most kMaxLineBytes long; a longer one is refused as soon
// as that many bytes came without a newline, so a stranger makes the server hold no more.
// (The time a stranger may take is the server's auth timeout, ChatTcpOptions.)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace duplex::apps {

// Whether `given` is `token`, compared in constant time over the token's length (the
// length itself is not secret).
bool same_token(std::string_view given, std::string_view token) noexcept;

class ChatAuth {
 public:
  enum class State { waiting, admitted, refused };
  static constexpr std::size_t kMaxLineBytes = 512;  // the /auth line, its CR LF included

  explicit ChatAuth(std::string token) : token_(std::move(token)) {}

  // Reads the input up to the end of the /auth line and returns how many bytes of `data` it
  // took: all of them while waiting; once admitted, what follows the line belongs to the
  // session. Takes nothing once the verdict is given.
  std::size_t feed(std::string_view data);

  State state() const noexcept { return state_; }
  // Why the client is refused: one line for it, without "! " and the newline.
  const std::string& refusal() const noexcept { return refusal_; }

 private:
  void judge(std::string_view line);

  std::string token_;
  std::string line_;       // the first line so far
  std::size_t taken_ = 0;  // bytes read so far, empty lines before /auth included
  State state_ = State::waiting;
  std::string refusal_;
};

}  // namespace duplex::apps
