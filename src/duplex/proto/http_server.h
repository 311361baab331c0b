// Public. An HTTP/1.1 server on transport::TcpServer.
//
// Per connection: keep-alive; pipelining (every complete request in the input is answered,
// and the answers go out in one write); 100-continue; HEAD; file bodies with sendfile; a
// 101 response may hand the connection to an UpgradeHandler (the WebSocket seam); a handler
// may answer later (Response::defer), the loop serving other connections meanwhile.
//
// Timeouts, each closing the connection:
//   header     the whole head of a request must arrive within it, counted from its first
//              byte (a slowloris client dripping bytes is cut off: 408)
//   body       the whole body within it, counted from the end of the head (408)
//   keep_alive idle time between requests (closed silently)
//   send       a response the peer does not read for this long (a slow reader)
//   answer     a deferred answer (Response::defer) not completed within it is answered
//              503 and the connection closed
//   linger     once our last answer (a refusal, a 408, a response with Connection: close)
//              has reached the peer and our FIN is out, how long it may take to close its
//              side; meanwhile what it sends is read and dropped. A peer still there after
//              it, or that stops reading the answer, is reset (RST), as nginx's lingering
//              close and reset_timedout_connection do; a send timeout resets too.
// Process-wide: the constructor ignores SIGPIPE (unless a handler is installed), since
// sendfile() cannot be told MSG_NOSIGNAL.
// TLS: options.tcp.filter = tls::filter_factory(context) (proto/tls_filter.h) serves HTTPS;
// file bodies are then read into user space and encrypted (no sendfile, no MSG_MORE).
// A refused request (see http_parser.h) is answered with its status and the connection
// closed (with the linger above), since the bytes that follow can no longer be framed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "duplex/inet/endpoint.h"
#include "duplex/proto/http_parser.h"
#include "duplex/proto/http_response.h"
#include "duplex/transport/tcp_server.h"

namespace duplex::http {

struct ServerOptions {
  Limits limits;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds keep_alive_timeout{60'000};
  std::chrono::milliseconds send_timeout{30'000};
  std::chrono::milliseconds linger_timeout{5'000};   // nginx's lingering_timeout
  std::chrono::milliseconds answer_timeout{30'000};  // for a deferred answer
  std::string server_name = "duplex";
  TcpServerOptions tcp;
  // Told when a connection comes up (true) and goes down (false), in the connection's
  // loop; for a registry of live connections. A WebSocket route sees the same
  // TcpConnectionPtr in its upgrade handler, so it can relabel the connection there.
  std::function<void(const TcpConnectionPtr&, bool up)> on_connection;
};

// Runs in the connection's loop; fills in `response`. Views in `request` are valid only
// during the call.
using Handler = std::function<void(const Request& request, Response& response)>;

class Server {
 public:
  // Base loop thread only. Binds and listens (throws duplex::Error).
  Server(EventLoop* loop, const inet::Endpoint& listen, Handler handler,
         ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  void stop();
  const inet::Endpoint& listen_endpoint() const noexcept { return tcp_.listen_endpoint(); }
  std::size_t connection_count() const { return tcp_.connection_count(); }

 private:
  std::shared_ptr<const ServerOptions> options_;
  std::shared_ptr<const Handler> handler_;
  TcpServer tcp_;
};

}  // namespace duplex::http
