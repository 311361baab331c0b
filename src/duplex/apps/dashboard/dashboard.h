// Public. What `duplex serve`'s JSON API (docs/api.md) needs from the process that runs it,
// and the function that adds the API's routes to a router. cli/serve.cc builds the
// context; apps/dashboard_api.cc implements the routes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "duplex/inet/endpoint.h"
#include "duplex/transport/tcp_info.h"

namespace duplex {
class EventLoop;
namespace http {
class Router;
struct Request;
}  // namespace http
}  // namespace duplex

namespace duplex::apps {

class ChatHub;

// One client connection of the process, as the Connections page lists it.
struct ConnectionSnapshot {
  std::string id;        // stable while it lives: "tcp-chat#12", "http#40"
  std::string protocol;  // "chat" (TCP), "websocket", "http"
  inet::Endpoint local;
  inet::Endpoint peer;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  double age_s = 0;
  std::optional<TcpInfo> tcp;  // TCP_INFO, read when the snapshot was taken
  std::string chat_name;       // "" unless a chat member
  std::string chat_room;
};

struct DashboardContext {
  EventLoop* loop = nullptr;
  std::string version;
  inet::Endpoint http_endpoint;
  inet::Endpoint chat_endpoint;
  std::uint16_t discovery_port = 0;  // 0: discovery off
  // True when bound beyond loopback: every request needs the token.
  bool token_required = false;
  // Whether the request carries the token (Authorization: Bearer, ?token= or the
  // duplex_token cookie), compared in constant time.
  std::function<bool(const http::Request&)> has_token;
  std::function<std::vector<ConnectionSnapshot>()> connections;
  ChatHub* chat = nullptr;
};

// Adds every /api/ route of docs/api.md. The context must outlive the router.
void add_api_routes(http::Router& router, DashboardContext& context);

}  // namespace duplex::apps
