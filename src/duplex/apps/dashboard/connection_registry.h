// Public. Every client connection of a `duplex serve` process, for the Connections page:
// the HTTP and WebSocket ones as the HTTP server reports them (the WebSocket route
// relabels its own), and the TCP chat's sessions, read from the chat server when asked.
//
// Threading: loop thread only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/dashboard/dashboard.h"
#include "duplex/transport/callbacks.h"

namespace duplex::apps {

class ChatMember;
class ChatTcpServer;

class ConnectionRegistry {
 public:
  void up(const TcpConnectionPtr& c);
  void down(const TcpConnectionPtr& c);
  // The connection now carries the chat over WebSocket, as `member`.
  void websocket(const TcpConnectionPtr& c, const std::shared_ptr<const ChatMember>& member);

  // Every connection with its TCP_INFO read now; `chat` adds its TCP sessions.
  std::vector<ConnectionSnapshot> snapshot(const ChatHub& hub, const ChatTcpServer& chat) const;

 private:
  struct Entry {
    std::weak_ptr<TcpConnection> conn;
    std::string protocol;
    std::weak_ptr<const ChatMember> member;
  };
  std::map<const TcpConnection*, Entry> entries_;
};

}  // namespace duplex::apps
