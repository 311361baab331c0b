// websocket::Connection over real loopback TCP: what the glue adds to the session (FIN after
// the close handshake, the close timeout, back-pressure). The handshake is not its job, so
// the server wraps each accepted connection at once.
#include "duplex/proto/websocket_connection.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../transport/loopback.h"
#include "duplex/reactor/buffer.h"
#include "duplex/transport/tcp_connection.h"
#include "duplex/transport/tcp_server.h"

namespace duplex::websocket {
namespace {

using namespace std::chrono_literals;

const std::array<std::uint8_t, 4> kKey = {0x11, 0x22, 0x33, 0x44};

std::string client_frame(Opcode op, std::string_view payload) {
  std::string out;
  encode_frame(out, op, {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()},
               true, &kKey);
  return out;
}

// An echo server whose connections speak WebSocket from their first byte.
class Server {
 public:
  Server(test::LoopRunner& runner, ConnectionOptions options, bool close_at_once = false)
      : runner_(runner) {
    runner_.call([&] {
      server_ = std::make_unique<TcpServer>(runner_.loop(), test::loopback(), "ws-test");
      server_->set_connection_callback([this, options, close_at_once](const TcpConnectionPtr& c) {
        if (!c->connected()) {
          conns_.erase(c.get());
          return;
        }
        auto ws = std::make_shared<Connection>(c, Role::server, options, &Server::echo);
        conns_[c.get()] = ws;
        if (close_at_once) ws->close(CloseCode::going_away, "bye");
      });
      server_->set_message_callback([this](const TcpConnectionPtr& c, Buffer& in, auto) {
        conns_[c.get()]->on_input(in);
        if (!c->reading()) paused_seen = true;
      });
      server_->set_write_complete_callback([this](const TcpConnectionPtr& c) {
        if (auto it = conns_.find(c.get()); it != conns_.end()) it->second->on_write_complete();
      });
      server_->start();
      return 0;
    });
  }
  ~Server() {
    runner_.call([&] {
      server_.reset();
      conns_.clear();
      return 0;
    });
  }
  inet::Endpoint endpoint() const { return server_->listen_endpoint(); }

  std::atomic<bool> paused_seen{false};

 private:
  static void echo(Connection& conn, Session::Event& ev) {
    if (ev.kind == Session::Event::Kind::binary) {
      conn.send_binary({reinterpret_cast<const std::uint8_t*>(ev.data.data()), ev.data.size()});
    }
  }

  test::LoopRunner& runner_;
  std::unique_ptr<TcpServer> server_;
  std::map<TcpConnection*, std::shared_ptr<Connection>> conns_;  // loop thread only
};

TEST(WebSocketConnection, ServerSendsFinOnceTheCloseHandshakeIsOver) {
  test::LoopRunner runner;
  Server server(runner, {});
  test::Client client(server.endpoint());
  ASSERT_TRUE(client.send_all(client_frame(Opcode::close, "\x03\xe8")));
  const auto got = client.receive_until_eof();
  ASSERT_TRUE(got.has_value()) << "no FIN from the server";
  EXPECT_EQ(*got, std::string("\x88\x02\x03\xe8", 4));
}

TEST(WebSocketConnection, PeerThatNeverAnswersOurCloseIsCutOffAfterTheTimeout) {
  test::LoopRunner runner;
  ConnectionOptions options;
  options.close_timeout = 200ms;
  Server server(runner, options, /*close_at_once=*/true);
  test::Client client(server.endpoint());
  // We read the server's Close and stay silent; only the timeout can end the connection
  // before the client's 20-second receive limit.
  const auto got = client.receive_until_eof();
  ASSERT_TRUE(got.has_value()) << "the server kept the silent peer";
  EXPECT_TRUE(got->starts_with("\x88\x05\x03\xe9"));
}

TEST(WebSocketConnection, ReadingPausesPastTheHighWaterMarkAndResumesOnceDrained) {
  test::LoopRunner runner;
  ConnectionOptions options;
  options.high_water = 256 * 1024;
  Server server(runner, options);
  test::Client client(server.endpoint());
  // 64 MiB of echoes: more than the kernel's loopback buffers in both directions hold, so
  // the server's own output must pass the mark while the client does not read.
  constexpr std::size_t kMessages = 128;
  const std::string frame = client_frame(Opcode::binary, test::pattern(512 * 1024));
  std::atomic<bool> sent_all{false};
  std::thread sender([&] {
    bool ok = true;
    for (std::size_t i = 0; i < kMessages && ok; ++i) ok = client.send_all(frame);
    sent_all = ok;
  });
  const bool paused = test::wait_until([&] { return server.paused_seen.load(); });
  // Each echo is 512 KiB plus a 10-byte header; reading them all lets the server resume.
  const std::size_t expected = kMessages * (512 * 1024 + 10);
  const auto echoed = client.receive(expected);
  sender.join();
  EXPECT_TRUE(paused);
  EXPECT_TRUE(sent_all);
  EXPECT_EQ(echoed.size(), expected);
}

TEST(WebSocketConnection, PausedEventsWaitInTheSessionUntilResumed) {
  test::LoopRunner runner;
  std::unique_ptr<TcpServer> server;
  std::shared_ptr<Connection> ws;
  std::vector<std::string> texts;  // loop thread only
  const auto at = runner.call([&] {
    server = std::make_unique<TcpServer>(runner.loop(), test::loopback(), "ws-test");
    server->set_connection_callback([&](const TcpConnectionPtr& c) {
      if (!c->connected()) return;
      // One event at a time: each pauses the events until the test resumes them.
      ws = std::make_shared<Connection>(c, Role::server, ConnectionOptions{},
                                        [&](Connection& conn, Session::Event& ev) {
                                          texts.push_back(ev.data);
                                          conn.pause_events();
                                        });
    });
    server->set_message_callback([&](const TcpConnectionPtr&, Buffer& in, auto) {
      if (ws) ws->on_input(in);
    });
    server->start();
    return server->listen_endpoint();
  });
  test::Client client(at);
  ASSERT_TRUE(client.send_all(client_frame(Opcode::text, "a") + client_frame(Opcode::text, "b") +
                              client_frame(Opcode::text, "c")));
  const auto seen = [&](std::size_t n) {
    return test::wait_until([&] { return runner.call([&] { return texts.size() >= n; }); });
  };
  ASSERT_TRUE(seen(1));
  // Paused: the other two wait, and the socket is not read.
  EXPECT_TRUE(runner.call([&] { return ws->events_paused() && !ws->tcp()->reading(); }));
  EXPECT_EQ(runner.call([&] { return texts.size(); }), 1u);
  for (std::size_t n = 2; n <= 3; ++n) {
    runner.call([&] {
      ws->resume_events();
      return 0;
    });
    ASSERT_TRUE(seen(n)) << "resume_events() delivered nothing";
    EXPECT_EQ(runner.call([&] { return texts.size(); }), n) << "more than one event per resume";
  }
  EXPECT_EQ(runner.call([&] { return texts; }), (std::vector<std::string>{"a", "b", "c"}));
  runner.call([&] {
    server.reset();
    ws.reset();
    return 0;
  });
}

}  // namespace
}  // namespace duplex::websocket
