// The http::Server tests' harness: a server in its own loop thread that counts its
// connections, and a reader of one response at a time.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "../transport/loopback.h"
#include "duplex/proto/http_server.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::test {

// An http::Server on 127.0.0.1 in its own loop thread. It counts the connections that came
// up and went down, and keeps the last one to come up.
class TestServer {
 public:
  explicit TestServer(http::Handler handler, http::ServerOptions options = {}) {
    options.on_connection = [this, user = std::move(options.on_connection)](
                                const TcpConnectionPtr& c, bool up) {
      if (user) user(c, up);
      if (up) last_ = c;
      if (!up) last_received_ = c->bytes_received();
      ++(up ? up_ : down_);
    };
    endpoint_ = runner_.call([&] {
      server_ = std::make_unique<http::Server>(runner_.loop(), loopback(), std::move(handler),
                                               std::move(options));
      server_->start();
      return server_->listen_endpoint();
    });
  }
  ~TestServer() {
    runner_.call([&] { server_.reset(); });
  }
  const inet::Endpoint& endpoint() const { return endpoint_; }
  // Connections the server has let go of (closed or reset), whatever the client does.
  int released() const { return down_.load(); }
  // What the last connection has read from its socket (until it closed).
  std::uint64_t bytes_received() {
    return runner_.call([&] {
      const auto c = last_.lock();
      return c ? c->bytes_received() : last_received_.load();
    });
  }

 private:
  std::atomic<int> up_{0};
  std::atomic<int> down_{0};
  std::atomic<std::uint64_t> last_received_{0};
  std::weak_ptr<TcpConnection> last_;  // loop thread only
  LoopRunner runner_;
  std::unique_ptr<http::Server> server_;
  inet::Endpoint endpoint_;
};

// A server whose closing connections linger briefly, so that tests of the release are quick.
inline http::ServerOptions short_linger() {
  http::ServerOptions options;
  options.linger_timeout = std::chrono::milliseconds(100);
  return options;
}

inline void hello(const http::Request& req, http::Response& res) {
  res.text(200, "hello " + std::string(req.path));
}

// One response: the head, then Content-Length bytes or a chunked body up to its last chunk.
inline std::string read_response(Client& client) {
  std::string out;
  char buf[4096];
  for (;;) {
    const auto end = out.find("\r\n\r\n");
    if (end != std::string::npos) {
      const auto head = out.substr(0, end);
      const auto cl = head.find("Content-Length: ");
      if (head.substr(9, 3) == "100" || head.substr(9, 3) == "101") return out;
      if (cl != std::string::npos &&
          out.size() >= end + 4 + std::stoul(head.substr(cl + 16, head.find('\r', cl) - cl - 16)))
        return out;
      if (cl == std::string::npos && out.size() >= 5 && out.substr(out.size() - 5) == "0\r\n\r\n")
        return out;
    }
    const ssize_t n = ::recv(client.fd(), buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

inline std::size_t count(std::string_view s, std::string_view what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string_view::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace duplex::test
