#include "duplex/proto/websocket_http.h"

#include <memory>
#include <utility>
#include <vector>

#include "duplex/proto/websocket_handshake.h"
#include "duplex/reactor/buffer.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::websocket {

bool accept_upgrade(const http::Request& request, http::Response& response,
                    ConnectionOptions options, Connection::EventCallback on_event) {
  return accept_upgrade(request, response, options, std::move(on_event), {});
}

bool accept_upgrade(const http::Request& request, http::Response& response,
                    ConnectionOptions options, Connection::EventCallback on_event,
                    OpenCallback on_open) {
  std::vector<HeaderField> fields;
  fields.reserve(request.headers.size());
  for (const auto& h : request.headers) fields.push_back({h.name, h.value});
  std::string_view key;
  auto error =
      request.method == "GET" ? check_client_handshake(fields, key) : HandshakeError::not_get;
  if (error != HandshakeError::none) {
    const bool version = error == HandshakeError::bad_version;
    response.text(version ? 426 : 400, std::string(describe(error)) + "\n");
    if (version) response.set("Sec-WebSocket-Version", std::string(kVersion));
    response.close = true;
    return false;
  }
  response.status = 101;
  response.set("Upgrade", "websocket");
  response.set("Connection", "Upgrade");
  response.set("Sec-WebSocket-Accept", accept_value(key));
  // The first call creates the connection; the HTTP session keeps this handler (and so the
  // WebSocket connection) for as long as the TCP connection lives. The HTTP session ignores
  // write-complete once upgraded, so the WebSocket connection takes that callback over to
  // resume reading after back-pressure.
  auto holder = std::make_shared<std::shared_ptr<Connection>>();
  response.upgrade = [holder, options, on_event = std::move(on_event),
                      on_open = std::move(on_open)](const TcpConnectionPtr& tcp, Buffer& input) {
    auto& ws = *holder;
    if (!ws) {
      ws = std::make_shared<Connection>(tcp, Role::server, options, on_event);
      std::weak_ptr<Connection> weak = ws;
      tcp->set_write_complete_callback([weak](const TcpConnectionPtr&) {
        if (auto c = weak.lock()) c->on_write_complete();
      });
      if (on_open) on_open(ws);
    }
    ws->on_input(input);
  };
  return true;
}

}  // namespace duplex::websocket
