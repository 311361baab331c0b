// Test-only WebSocket echo server for tests/ws/echo_test.mjs (the npm `ws` client).
//
//   ws_echo_server [--port P] [--bind ADDR] [--max-message BYTES]
//
// Prints "listening on ADDR:PORT" once ready, then echoes every text and binary message.
// It is the real stack: http::Server reads the upgrade request, websocket::accept_upgrade()
// answers it on the HTTP server's upgrade seam, and websocket::Connection runs the session.
// Any other request gets the handshake's 400. SIGINT/SIGTERM stop it.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "duplex/inet/address.h"
#include "duplex/inet/endpoint.h"
#include "duplex/proto/http_server.h"
#include "duplex/proto/websocket_http.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_connection.h"

namespace {

namespace ws = duplex::websocket;

void echo(ws::Connection& conn, ws::Session::Event& ev) {
  using Kind = ws::Session::Event::Kind;
  if (ev.kind == Kind::text) {
    conn.send_text(ev.data);
  } else if (ev.kind == Kind::binary) {
    conn.send_binary({reinterpret_cast<const std::uint8_t*>(ev.data.data()), ev.data.size()});
  } else if (ev.kind == Kind::error) {
    const auto tcp = conn.tcp();
    std::fprintf(stderr, "ws-echo: %s: closing with %u: %s\n", tcp ? tcp->name().c_str() : "?",
                 ev.code, ev.data.c_str());
  }
}

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
    duplex::http::Server server(
        &loop,
        duplex::inet::Endpoint(duplex::inet::Address::parse(bind),
                               static_cast<std::uint16_t>(port)),
        [options](const duplex::http::Request& req, duplex::http::Response& res) {
          ws::accept_upgrade(req, res, options, &echo);
        });
    server.start();
    std::printf("listening on %s\n", server.listen_endpoint().to_string().c_str());
    std::fflush(stdout);
    loop.loop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ws_echo_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
