#include "duplex/apps/dashboard/connection_registry.h"

#include <chrono>

#include "duplex/apps/chat/chat_hub.h"
#include "duplex/apps/chat/chat_tcp.h"
#include "duplex/transport/tcp_connection.h"
#include "duplex/transport/tcp_info.h"

namespace duplex::apps {

void ConnectionRegistry::up(const TcpConnectionPtr& c) { entries_[c.get()] = Entry{c, "http", {}}; }

void ConnectionRegistry::down(const TcpConnectionPtr& c) { entries_.erase(c.get()); }

void ConnectionRegistry::websocket(const TcpConnectionPtr& c,
                                   const std::shared_ptr<const ChatMember>& member) {
  auto it = entries_.find(c.get());
  if (it == entries_.end()) return;
  it->second.protocol = "websocket";
  it->second.member = member;
}

std::vector<ConnectionSnapshot> ConnectionRegistry::snapshot(
    const ChatHub& hub, std::initializer_list<const ChatTcpServer*> doors) const {
  std::vector<ConnectionSnapshot> out;
  const auto now = Clock::now();
  auto add = [&](const TcpConnection& c, const std::string& protocol, const ChatMember* member) {
    ConnectionSnapshot s;
    s.id = c.name();
    s.protocol = protocol;
    s.local = c.local();
    s.peer = c.peer();
    s.bytes_in = c.bytes_received();
    s.bytes_out = c.bytes_sent();
    s.age_s = std::chrono::duration<double>(now - c.established_at()).count();
    if (c.fd() >= 0) s.tcp = read_tcp_info(c.fd());
    if (member != nullptr) {
      s.chat_name = hub.name_of(member);
      s.chat_room = hub.room_of(member);
    }
    out.push_back(std::move(s));
  };
  for (const ChatTcpServer* door : doors) {
    if (door == nullptr) continue;
    const std::string protocol = door->irc() ? "irc" : "chat";
    door->for_each([&](const TcpConnectionPtr& c, const ChatMember& m) { add(*c, protocol, &m); });
  }
  for (const auto& [key, e] : entries_) {
    auto c = e.conn.lock();
    if (!c) continue;
    auto member = e.member.lock();
    add(*c, e.protocol, member.get());
  }
  return out;
}

}  // namespace duplex::apps
