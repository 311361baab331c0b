// Test-only WebSocket echo server for tests/ws/echo_test.mjs (the npm `ws` client).
//
//   ws_echo_server [--port P] [--bind ADDR] [--max-message BYTES]
//
// Prints "listening on ADDR:PORT" once ready, then echoes every text and binary message.
// The upgrade is read straight off a transport::TcpServer with the handshake helpers of
// websocket_handshake.h, because the HTTP server's upgrade seam has not landed yet; after
// it, websocket::Connection does the rest, as it would behind that seam. SIGINT/SIGTERM
// stop it.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "duplex/base/error.h"
#include "duplex/inet/address.h"
#include "duplex/inet/endpoint.h"
#include "duplex/proto/websocket_connection.h"
#include "duplex/proto/websocket_handshake.h"
#include "duplex/reactor/buffer.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_connection.h"
#include "duplex/transport/tcp_server.h"

namespace {

using duplex::Buffer;
using duplex::TcpConnectionPtr;
namespace ws = duplex::websocket;

constexpr std::size_t kMaxHead = 8192;

struct Peer {
  std::shared_ptr<ws::Connection> ws;  // set once the handshake succeeded
};

class EchoServer {
 public:
  EchoServer(duplex::EventLoop* loop, const duplex::inet::Endpoint& listen,
             ws::ConnectionOptions options)
      : server_(loop, listen, "ws-echo"), options_(options) {
    server_.set_connection_callback([this](const TcpConnectionPtr& c) {
      if (c->connected()) {
        peers_[c.get()] = Peer{};
      } else {
        peers_.erase(c.get());
      }
    });
    server_.set_message_callback([this](const TcpConnectionPtr& c, Buffer& in,
                                        duplex::Clock::time_point) { on_message(c, in); });
    server_.set_write_complete_callback([this](const TcpConnectionPtr& c) {
      auto it = peers_.find(c.get());
      if (it != peers_.end() && it->second.ws) it->second.ws->on_write_complete();
    });
  }

  void start() { server_.start(); }
  const duplex::inet::Endpoint& endpoint() const { return server_.listen_endpoint(); }

 private:
  void on_message(const TcpConnectionPtr& c, Buffer& in) {
    auto it = peers_.find(c.get());
    if (it == peers_.end()) return;
    Peer& peer = it->second;
    if (!peer.ws && !upgrade(c, in, peer)) return;
    peer.ws->on_input(in);
  }

  static void echo(ws::Connection& conn, ws::Session::Event& ev) {
    using Kind = ws::Session::Event::Kind;
    if (ev.kind == Kind::text) {
      conn.send_text(ev.data);
    } else if (ev.kind == Kind::binary) {
      conn.send_binary({reinterpret_cast<const std::uint8_t*>(ev.data.data()), ev.data.size()});
    } else if (ev.kind == Kind::error) {
      std::fprintf(stderr, "ws-echo: %s: closing with %u: %s\n",
                   conn.tcp() ? conn.tcp()->name().c_str() : "?", ev.code, ev.data.c_str());
    }
  }

  // Reads the opening handshake; true once upgraded (what follows the head stays in `in`).
  bool upgrade(const TcpConnectionPtr& c, Buffer& in, Peer& peer) {
    ws::HandshakeHead head;
    auto err = ws::read_handshake_head(in.view(), head);
    if (err == ws::HandshakeError::none && head.size == 0) {
      if (in.readable_bytes() <= kMaxHead) return false;
      err = ws::HandshakeError::malformed_head;  // a head that never ends
    }
    std::string_view key;
    if (err == ws::HandshakeError::none && ws::request_method(head.start_line) != "GET") {
      err = ws::HandshakeError::not_get;
    }
    if (err == ws::HandshakeError::none) err = ws::check_client_handshake(head.fields, key);
    if (err != ws::HandshakeError::none) {
      c->send(ws::reject_response(err));
      c->shutdown_write();
      in.retrieve_all();
      return false;
    }
    c->send(ws::accept_response(key));
    in.retrieve(head.size);
    peer.ws = std::make_shared<ws::Connection>(c, ws::Role::server, options_, &EchoServer::echo);
    return true;
  }

  duplex::TcpServer server_;
  ws::ConnectionOptions options_;
  std::unordered_map<duplex::TcpConnection*, Peer> peers_;  // base loop only
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "ws_echo_server: %s\nusage: ws_echo_server [--port P] [--bind ADDR] "
               "[--max-message BYTES]\n",
               why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string bind = "127.0.0.1";
  unsigned long port = 0;
  ws::ConnectionOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) usage("every option takes a value");
    const char* value = argv[++i];
    char* end = nullptr;
    if (arg == "--port") {
      port = std::strtoul(value, &end, 10);
      if (*end != '\0' || port > 65535) usage("--port needs a number from 0 to 65535");
    } else if (arg == "--bind") {
      bind = value;
    } else if (arg == "--max-message") {
      options.session.max_message_size = std::strtoul(value, &end, 10);
      if (*end != '\0' || options.session.max_message_size == 0) {
        usage("--max-message needs bytes > 0");
      }
    } else {
      usage("unknown option");
    }
  }
  try {
    duplex::EventLoop loop;
    duplex::SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&loop](int) { loop.quit(); });
    EchoServer server(&loop,
                      duplex::inet::Endpoint(duplex::inet::Address::parse(bind),
                                             static_cast<std::uint16_t>(port)),
                      options);
    server.start();
    std::printf("listening on %s\n", server.endpoint().to_string().c_str());
    std::fflush(stdout);
    loop.loop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ws_echo_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
