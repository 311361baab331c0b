// Public. The WebSocket side of `duplex serve`'s chat: GET /ws/chat on the dashboard's HTTP
// port, one JSON object per text frame (chat_protocol.h).
//
// On open the member joins the default room under a guest name and gets "welcome" and
// "history"; a "hello" may then change the name and the room. "say" is acknowledged with
// "ack" after the commit, before the message itself comes back as "message".
// Flood control as on the TCP side (chat_flood.h), and at most flood.lines_per_round
// frames of one connection handled per loop round: the rest of a burst waits in the
// connection (pause_events) for the next round.
// Back-pressure: past max_output unsent bytes a member is dropped (Close 1008 "too far
// behind"), as on the TCP side (chat_tcp.h).
// Loop thread only. The endpoint must outlive the router's use of the route, and the hub
// the endpoint; members that outlive the endpoint (connections still closing) ignore what
// they receive, and leave the hub when they go (ChatMember's destructor).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>

#include "duplex/apps/chat/chat_flood.h"
#include "duplex/apps/chat/chat_hub.h"
#include "duplex/transport/callbacks.h"

namespace duplex::http {
class Router;
}

namespace duplex::apps {

// A stored message as JSON: {"id","room","name","text","ts","via"} (chat_protocol.h).
nlohmann::json chat_message_json(const ChatMessage& message);

struct ChatWsOptions {
  std::size_t max_output = std::size_t{1} << 20;  // unsent bytes before a member is dropped
  std::size_t max_message = 64 * 1024;            // bytes of one incoming frame's message
  FloodLimits flood;  // per connection, as on the TCP side (chat_flood.h)
};

class ChatWsEndpoint {
 public:
  // Told when a WebSocket chat member opens, with its connection (to relabel it).
  using OpenCallback =
      std::function<void(const TcpConnectionPtr&, const std::shared_ptr<const ChatMember>&)>;

  ChatWsEndpoint(ChatHub& hub, ChatWsOptions options = {}, OpenCallback on_open = {});
  ~ChatWsEndpoint();
  ChatWsEndpoint(const ChatWsEndpoint&) = delete;
  ChatWsEndpoint& operator=(const ChatWsEndpoint&) = delete;

  // Adds GET /ws/chat.
  void add_route(http::Router& router);

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace duplex::apps
