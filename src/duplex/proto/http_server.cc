#include "duplex/proto/http_server.h"

#include <csignal>

#include "duplex/proto/http_session.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::http {

Server::Server(EventLoop* loop, const inet::Endpoint& listen, Handler handler,
               ServerOptions options)
    : options_(std::make_shared<const ServerOptions>(std::move(options))),
      handler_(std::make_shared<const Handler>(std::move(handler))),
      tcp_(loop, listen, "http", options_->tcp) {
  // sendfile() has no MSG_NOSIGNAL: a peer that resets while a file is being sent would
  // kill the process with SIGPIPE. Ignore it unless the program has its own handler.
  struct sigaction old {};
  if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL)
    std::signal(SIGPIPE, SIG_IGN);
  // The session lives in the connection's callbacks: it goes when the connection goes, and
  // its timers hold it weakly.
  tcp_.set_connection_callback([options = options_, handler = handler_](const TcpConnectionPtr& c) {
    if (options->on_connection) options->on_connection(c, c->connected());
    if (!c->connected()) return;
    auto session = std::make_shared<Session>(c, options, handler);
    c->set_message_callback([session](const TcpConnectionPtr&, Buffer& input, Clock::time_point) {
      session->on_message(input);
    });
    c->set_write_complete_callback(
        [session](const TcpConnectionPtr&) { session->on_write_complete(); });
    session->start();
  });
}

Server::~Server() { stop(); }

void Server::start() { tcp_.start(); }

void Server::stop() { tcp_.stop(); }

}  // namespace duplex::http
