// Public. The TCP side of `duplex serve`'s chat: one UTF-8 line per message, the line
// protocol of chat_protocol.h, so that `duplex chat` and plain nc both work.
//
// Limits: a line longer than kMaxTextBytes is answered with "! message too long ..." and
// dropped up to its end, without being buffered; invalid UTF-8 and control characters are
// refused with "! ...".
// Back-pressure: a member that does not read its output is not allowed to grow the server's
// memory. Each connection's unsent output is capped (max_output); a member past the cap is
// dropped: it gets a last "! too far behind ..." line, receives nothing more, and the
// connection is closed once that drains (or after drop_grace if it never does). Dropping
// rather than skipping messages keeps the rule that a client sees every message of its room
// in order, or knows it does not.
// Flood control: each connection's lines pass a token bucket (chat_flood.h); at most
// flood.lines_per_round lines of one connection are handled per loop round, the rest waits
// with reading paused.
// Access: with options.token set (serve bound beyond loopback) a connection is first held at
// a gate (chat_auth.h): it gets one notice asking for "/auth TOKEN", and nothing of the room
// until that line; a wrong or missing token, a first line over ChatAuth::kMaxLineBytes, or
// no line within auth_timeout gets one "! ..." line and our FIN, and the close after
// drop_grace. Without a token, "/auth ..." is answered with a notice and changes nothing.
// Loop thread only (the loop given to the constructor runs every connection).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "duplex/apps/chat/chat_auth.h"
#include "duplex/apps/chat/chat_flood.h"
#include "duplex/inet/endpoint.h"
#include "duplex/reactor/timer_queue.h"
#include "duplex/transport/callbacks.h"
#include "duplex/transport/tcp_server.h"

namespace duplex {
class EventLoop;
}

namespace duplex::apps {

class ChatHub;
class ChatMember;

struct ChatTcpOptions {
  std::size_t max_output = std::size_t{1} << 20;  // unsent bytes before a member is dropped
  std::chrono::milliseconds drop_grace{10'000};   // then closed even if it never drained
  std::string greeting = "welcome to duplex chat; /help lists the commands";
  FloodLimits flood;
  // Not empty (serve bound beyond loopback): the first line must be "/auth TOKEN"
  // (chat_auth.h), within auth_timeout; until then the room neither hears nor is heard.
  std::string token;
  std::chrono::milliseconds auth_timeout{10'000};
  // TLS under every connection (tls::filter_factory of proto/tls_filter.h); empty: plain TCP.
  std::function<std::unique_ptr<StreamFilter>()> filter;
  // The IRC door (chat_irc.h): clients speak IRC, and the token, if any, comes as PASS.
  bool irc = false;
};

class ChatTcpServer {
 public:
  // Binds and listens (throws duplex::Error).
  ChatTcpServer(EventLoop* loop, const inet::Endpoint& listen, ChatHub& hub,
                ChatTcpOptions options = {});
  ~ChatTcpServer();
  ChatTcpServer(const ChatTcpServer&) = delete;
  ChatTcpServer& operator=(const ChatTcpServer&) = delete;

  void start();
  void stop();
  const inet::Endpoint& listen_endpoint() const noexcept { return tcp_.listen_endpoint(); }

  // Every live chat connection with its member (for the connection registry).
  void for_each(const std::function<void(const TcpConnectionPtr&, const ChatMember&)>& f) const;
  std::size_t size() const noexcept { return sessions_.size(); }
  bool irc() const noexcept { return options_.irc; }

 private:
  class Session;
  struct Gate {  // a connection that has not said /auth TOKEN yet
    ChatAuth auth;
    TimerId timer{};  // the auth timeout; once refused, the close after drop_grace
    bool refused = false;
  };
  void received(const TcpConnectionPtr& c, Buffer& in, bool finished);
  void guard(const TcpConnectionPtr& c);
  void refuse(const TcpConnectionPtr& c, Gate& gate, const std::string& why);
  // The session starts; `rest` is what followed /auth (finished: and then the FIN).
  void admit(const TcpConnectionPtr& c, Buffer* rest, bool finished);

  EventLoop* loop_;
  ChatHub& hub_;
  ChatTcpOptions options_;
  TcpServer tcp_;
  std::unordered_map<const TcpConnection*, Gate> gates_;
  std::unordered_map<const TcpConnection*, std::shared_ptr<Session>> sessions_;
};

}  // namespace duplex::apps
