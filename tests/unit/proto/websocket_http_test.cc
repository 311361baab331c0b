// WebSocket behind the HTTP server's upgrade seam, on loopback: the handshake through
// http::Server, then frames through websocket::Connection.
#include "duplex/proto/websocket_http.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "../transport/loopback.h"
#include "duplex/proto/http_server.h"
#include "duplex/proto/websocket_handshake.h"

namespace duplex::websocket {
namespace {

const std::array<std::uint8_t, 4> kKey = {0x0a, 0x0b, 0x0c, 0x0d};

std::string client_frame(Opcode op, std::string_view payload) {
  std::string out;
  encode_frame(out, op, {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()},
               true, &kKey);
  return out;
}

class WebSocketOverHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    runner_.call([&] {
      server_ = std::make_unique<http::Server>(
          runner_.loop(), test::loopback(), [](const http::Request& req, http::Response& res) {
            accept_upgrade(req, res, {}, [](Connection& c, Session::Event& ev) {
              if (ev.kind == Session::Event::Kind::text) c.send_text(ev.data);
            });
          });
      server_->start();
      return 0;
    });
  }
  void TearDown() override {
    runner_.call([&] {
      server_.reset();
      return 0;
    });
  }
  inet::Endpoint endpoint() const { return server_->listen_endpoint(); }

  // Reads up to the end of the response head.
  static std::string read_head(test::Client& client) {
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos) {
      auto more = client.receive(1);
      if (more.empty()) break;
      head += more;
    }
    return head;
  }

  test::LoopRunner runner_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(WebSocketOverHttp, HandshakeIsAcceptedAndTextIsEchoed) {
  test::Client client(endpoint());
  const auto key = generate_key();
  ASSERT_TRUE(client.send_all(client_request("127.0.0.1", "/ws", key)));
  const auto head_bytes = read_head(client);
  HandshakeHead head;
  ASSERT_EQ(read_handshake_head(head_bytes, head), HandshakeError::none) << head_bytes;
  ASSERT_EQ(check_server_handshake(response_status(head.start_line), head.fields, key),
            HandshakeError::none)
      << head_bytes;
  ASSERT_TRUE(client.send_all(client_frame(Opcode::text, "hello")));
  EXPECT_EQ(client.receive(7), "\x81\x05hello");
}

TEST_F(WebSocketOverHttp, OtherVersionIsRefusedWith426AndOurVersion) {
  test::Client client(endpoint());
  std::string request = client_request("127.0.0.1", "/ws", generate_key());
  request.replace(request.find("Version: 13"), 11, "Version: 8");
  ASSERT_TRUE(client.send_all(request));
  const auto head = read_head(client);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 426 ")) << head;
  EXPECT_NE(head.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos) << head;
}

TEST_F(WebSocketOverHttp, CloseHandshakeEndsTheConnection) {
  test::Client client(endpoint());
  ASSERT_TRUE(client.send_all(client_request("127.0.0.1", "/ws", generate_key())));
  read_head(client);
  ASSERT_TRUE(client.send_all(client_frame(Opcode::close, "\x03\xe8")));
  const auto rest = client.receive_until_eof();
  ASSERT_TRUE(rest.has_value()) << "the server kept the connection open";
  EXPECT_EQ(*rest, std::string("\x88\x02\x03\xe8", 4));
}

TEST(WebSocketOnOpen, OnOpenRunsOnceAfterThe101AndMaySpeakFirst) {
  test::LoopRunner runner;
  std::unique_ptr<http::Server> server;
  std::atomic<int> opened{0};
  const auto at = runner.call([&] {
    server = std::make_unique<http::Server>(runner.loop(), test::loopback(),
                                            [&](const http::Request& req, http::Response& res) {
                                              accept_upgrade(
                                                  req, res, {},
                                                  [](Connection& c, Session::Event& ev) {
                                                    if (ev.kind == Session::Event::Kind::text)
                                                      c.send_text(ev.data);
                                                  },
                                                  [&](const std::shared_ptr<Connection>& c) {
                                                    ++opened;
                                                    c->send_text("hi");
                                                  });
                                            });
    server->start();
    return server->listen_endpoint();
  });
  test::Client client(at);
  ASSERT_TRUE(client.send_all(client_request("127.0.0.1", "/ws", generate_key())));
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    auto more = client.receive(1);
    if (more.empty()) break;
    head += more;
  }
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 101");
  EXPECT_EQ(client.receive(4), "\x81\x02hi");  // before we sent anything
  ASSERT_TRUE(client.send_all(client_frame(Opcode::text, "echo")));
  EXPECT_EQ(client.receive(6),
            "\x81\x04"
            "echo");
  EXPECT_EQ(opened.load(), 1);
  runner.call([&] {
    server.reset();
    return 0;
  });
}

}  // namespace
}  // namespace duplex::websocket
