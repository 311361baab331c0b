// An echo TcpServer on loopback, running in its own loop thread, for the transport tests.
#pragma once

#include <functional>
#include <memory>

#include "duplex/reactor/buffer.h"
#include "duplex/transport/tcp_connection.h"
#include "duplex/transport/tcp_server.h"
#include "loopback.h"

namespace duplex::test {

inline void echo(const TcpConnectionPtr& c, Buffer& in, Clock::time_point) { c->send(in); }

class EchoServer {
 public:
  // `setup` runs in the server's loop before start(); by default it installs echo.
  explicit EchoServer(TcpServerOptions options = {},
                      std::function<void(TcpServer&)> setup = nullptr) {
    endpoint_ = runner_.call([&] {
      server_ = std::make_unique<TcpServer>(runner_.loop(), loopback(), "test", options);
      server_->set_message_callback(echo);
      if (setup) setup(*server_);
      server_->start();
      return server_->listen_endpoint();
    });
  }
  ~EchoServer() { stop(); }

  void stop() {
    runner_.call([&] { server_.reset(); });
  }
  const inet::Endpoint& endpoint() const { return endpoint_; }
  EventLoop* loop() const { return runner_.loop(); }
  std::size_t connections() const { return server_ ? server_->connection_count() : 0; }

 private:
  LoopRunner runner_;
  std::unique_ptr<TcpServer> server_;
  inet::Endpoint endpoint_;
};

}  // namespace duplex::test
