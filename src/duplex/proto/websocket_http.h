// Public. A WebSocket endpoint on the HTTP server's upgrade seam (http_response.h): a route
// handler calls accept_upgrade(), which answers the opening handshake and, after the 101,
// runs a websocket::Connection on the connection.
//
//   router.add("GET", "/ws", [](const http::Request& req, const http::Params&,
//                               http::Response& res) {
//     websocket::accept_upgrade(req, res, {}, [](websocket::Connection& c,
//                                                 websocket::Session::Event& ev) { ... });
//   });
//
// Loop thread of the connection, like every handler.
#pragma once

#include <functional>
#include <memory>

#include "duplex/proto/http_parser.h"
#include "duplex/proto/http_response.h"
#include "duplex/proto/websocket_connection.h"

namespace duplex::websocket {

// A valid handshake gets 101 with Sec-WebSocket-Accept and an upgrade handler; anything
// else gets 400 (426 with "Sec-WebSocket-Version: 13" for another version) naming the
// cause, and the connection closes. Returns whether it accepted.
bool accept_upgrade(const http::Request& request, http::Response& response,
                    ConnectionOptions options, Connection::EventCallback on_event);

// The same, and `on_open` runs once the 101 is out and the connection exists, before any
// event: a server that speaks first (a greeting) sends it there and keeps the (shared)
// connection to send to later.
using OpenCallback = std::function<void(const std::shared_ptr<Connection>&)>;
bool accept_upgrade(const http::Request& request, http::Response& response,
                    ConnectionOptions options, Connection::EventCallback on_event,
                    OpenCallback on_open);

}  // namespace duplex::websocket
