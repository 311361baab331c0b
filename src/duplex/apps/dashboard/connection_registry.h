// Public. Every client connection of a `duplex serve` process, for the Connections page:
// the HTTP and WebSocket ones as the HTTP server reports them (the WebSocket route
// relabels its own), and the chat doors' sessions (TCP lines, IRC), read when asked.
//
// Threading: loop thread only.
#pragma once

#include <initializer_list>
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

  // Every connection with its TCP_INFO read now; each chat door (the line door, the IRC
  // door: nullptr when off) adds its sessions, as "chat" or "irc".
  std::vector<ConnectionSnapshot> snapshot(const ChatHub& hub,
                                           std::initializer_list<const ChatTcpServer*> doors) const;

 private:
  struct Entry {
    std::weak_ptr<TcpConnection> conn;
    std::string protocol;
    std::weak_ptr<const ChatMember> member;
  };
  std::map<const TcpConnection*, Entry> entries_;
};

}  // namespace duplex::apps
