#include "duplex/proto/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "../transport/loopback.h"
#include "duplex/proto/http_router.h"
#include "duplex/transport/tcp_connection.h"
#include "http_vectors.h"

namespace duplex::http {
namespace {

using namespace std::chrono_literals;

// An http::Server on 127.0.0.1 in its own loop thread.
class TestServer {
 public:
  explicit TestServer(Handler handler, ServerOptions options = {}) {
    endpoint_ = runner_.call([&] {
      server_ = std::make_unique<Server>(runner_.loop(), test::loopback(), std::move(handler),
                                         std::move(options));
      server_->start();
      return server_->listen_endpoint();
    });
  }
  ~TestServer() {
    runner_.call([&] { server_.reset(); });
  }
  const inet::Endpoint& endpoint() const { return endpoint_; }

 private:
  test::LoopRunner runner_;
  std::unique_ptr<Server> server_;
  inet::Endpoint endpoint_;
};

void hello(const Request& req, Response& res) { res.text(200, "hello " + std::string(req.path)); }

// One response: the head, then Content-Length bytes or a chunked body up to its last chunk.
std::string read_response(test::Client& client) {
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

std::size_t count(std::string_view s, std::string_view what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string_view::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(HttpServer, EverySmugglingVectorGetsItsStatusAndAClosedConnection) {
  TestServer server(hello);
  for (const auto& v : test::kBadRequests) {
    test::Client client(server.endpoint(), 5);
    ASSERT_TRUE(client.send_all(v.bytes)) << v.name;
    const auto reply = client.receive_until_eof();  // nullopt: the server did not close
    ASSERT_TRUE(reply.has_value()) << v.name;
    EXPECT_EQ(reply->substr(0, 12), "HTTP/1.1 " + std::to_string(v.status)) << v.name;
    EXPECT_NE(reply->find("Connection: close\r\n"), std::string::npos) << v.name;
  }
}

TEST(HttpServer, PipelinedRequestsAreAllAnsweredInOrder) {
  TestServer server(hello);
  test::Client client(server.endpoint(), 5);
  client.send_all(
      "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  const auto reply = client.receive_until_eof();
  ASSERT_TRUE(reply.has_value());
  const auto a = reply->find("hello /1"), b = reply->find("hello /2"), c = reply->find("hello /3");
  ASSERT_NE(c, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(count(*reply, "HTTP/1.1 200 OK"), 3u);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestServer server(hello);
  test::Client client(server.endpoint(), 5);
  for (int i = 0; i < 3; ++i) {
    client.send_all("GET /k HTTP/1.1\r\nHost: h\r\n\r\n");
    const auto reply = read_response(client);
    EXPECT_NE(reply.find("hello /k"), std::string::npos) << i;
    EXPECT_NE(reply.find("\r\nDate: "), std::string::npos);
    EXPECT_NE(reply.find("\r\nServer: duplex\r\n"), std::string::npos);
  }
}

// Between requests the connection gives its buffers back; bytes of the next request that
// arrive in pieces (a head split over three reads) are still kept and answered whole.
TEST(HttpServer, IdleKeepAliveConnectionStillAssemblesAHeadSplitOverReads) {
  TestServer server(hello);
  test::Client client(server.endpoint(), 5);
  client.send_all("GET /first HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_NE(read_response(client).find("hello /first"), std::string::npos);
  for (const char* piece : {"GET /sec", "ond HTTP/1.1\r\nHo", "st: h\r\n\r\n"}) {
    client.send_all(piece);
    std::this_thread::sleep_for(20ms);  // let each piece be read on its own (not a sync)
  }
  EXPECT_NE(read_response(client).find("hello /second"), std::string::npos);
}

TEST(HttpServer, ExpectContinueGets100BeforeTheBodyIsSent) {
  TestServer server(
      [](const Request& req, Response& res) { res.text(200, std::string(req.body)); });
  test::Client client(server.endpoint(), 5);
  client.send_all(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(read_response(client), "HTTP/1.1 100 Continue\r\n\r\n");
  client.send_all("body");
  const auto reply = read_response(client);
  EXPECT_EQ(reply.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(reply.substr(reply.size() - 4), "body");
}

TEST(HttpServer, HeadAnswerHasTheLengthButNoBody) {
  TestServer server(hello);
  test::Client client(server.endpoint(), 5);
  client.send_all("HEAD /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  const auto reply = client.receive_until_eof();
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(reply->find("Content-Length: 8\r\n"), std::string::npos);
  EXPECT_EQ(reply->substr(reply->size() - 4), "\r\n\r\n");
}

TEST(HttpServer, ChunkedUploadReachesTheHandlerDecodedAndChunkedAnswerIsEncoded) {
  TestServer server([](const Request& req, Response& res) {
    res.chunked = true;
    res.body = std::string(req.body);
    res.chunks = {"+", std::to_string(req.trailers.size())};
  });
  test::Client client(server.endpoint(), 5);
  client.send_all("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc");
  client.send_all("\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n");
  const auto reply = read_response(client);
  EXPECT_NE(reply.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(reply.substr(reply.find("\r\n\r\n") + 4),
            "5\r\nabcde\r\n1\r\n+\r\n1\r\n1\r\n0\r\n\r\n");
}

TEST(HttpServer, RouterCapturesParametersAndAnswers405And404) {
  Router router;
  router.add("GET", "/items/:id", [](const Request&, const Params& p, Response& res) {
    res.json(200, "{\"id\":\"" + std::string(p.get("id")) + "\"}");
  });
  TestServer server(router.handler());
  test::Client client(server.endpoint(), 5);
  client.send_all("GET /items/42 HTTP/1.1\r\nHost: h\r\n\r\n");
  auto reply = read_response(client);
  EXPECT_NE(reply.find("{\"id\":\"42\"}"), std::string::npos);
  EXPECT_NE(reply.find("Content-Type: application/json"), std::string::npos);
  client.send_all("DELETE /items/42 HTTP/1.1\r\nHost: h\r\n\r\n");
  reply = read_response(client);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 405");
  EXPECT_NE(reply.find("Allow: GET\r\n"), std::string::npos);
  client.send_all("GET /nothing HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(read_response(client).substr(0, 12), "HTTP/1.1 404");
}

TEST(HttpServer, Http10KeepAliveIsConfirmedAndChunkedBodiesAreSentWhole) {
  TestServer server([](const Request&, Response& res) {
    res.chunked = true;
    res.body = "ab";
    res.chunks = {"cd"};
  });
  test::Client client(server.endpoint(), 5);
  client.send_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const auto reply = read_response(client);
  EXPECT_NE(reply.find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_NE(reply.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_EQ(reply.substr(reply.size() - 4), "abcd");
}

TEST(HttpServer, HeadThatDoesNotArriveInTimeIsAnswered408AndClosed) {
  ServerOptions options;
  options.header_timeout = 200ms;
  TestServer server(hello, options);
  test::Client client(server.endpoint(), 10);
  client.send_all("GET / HTTP/1.1\r\nHost:");
  const auto reply = client.receive_until_eof();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->substr(0, 12), "HTTP/1.1 408");
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosed) {
  ServerOptions options;
  options.keep_alive_timeout = 200ms;
  TestServer server(hello, options);
  test::Client client(server.endpoint(), 10);
  client.send_all("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  const auto reply = client.receive_until_eof();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(count(*reply, "HTTP/1.1 200 OK"), 1u);
}

TEST(HttpServer, PeerThatDoesNotReadItsResponseIsCutOffBySendTimeout) {
  constexpr std::size_t kBody = 64 << 20;  // far more than both socket buffers hold
  ServerOptions options;
  options.send_timeout = 300ms;
  TestServer server([](const Request&, Response& res) { res.text(200, std::string(kBody, 'x')); },
                    options);
  test::Client client(server.endpoint(), 10);
  client.send_all("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  std::this_thread::sleep_for(1500ms);  // not reading: the send deadline passes
  std::size_t received = 0;
  char buf[65536];
  ssize_t n = 0;
  while ((n = ::recv(client.fd(), buf, sizeof buf, 0)) > 0) received += static_cast<std::size_t>(n);
  EXPECT_FALSE(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) << "the server kept it open";
  EXPECT_LT(received, kBody);
}

TEST(HttpServer, UpgradeHandlerTakesOverTheConnectionAfter101) {
  TestServer server([](const Request&, Response& res) {
    res.status = 101;
    res.set("Upgrade", "shout").set("Connection", "Upgrade");
    res.upgrade = [](const TcpConnectionPtr& c, Buffer& in) {
      std::string s = in.retrieve_all_as_string();
      for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      c->send(s);
    };
  });
  test::Client client(server.endpoint(), 5);
  client.send_all("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nabc");
  std::string reply = read_response(client);
  if (reply.find("ABC") == std::string::npos) reply += client.receive(3);  // if split
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 101");
  EXPECT_EQ(reply.substr(reply.size() - 3), "ABC");
  EXPECT_EQ(reply.find("Content-Length"), std::string::npos);
}

TEST(HttpDate, FormatsAndParsesImfFixdate) {
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), -1);
}

TEST(HttpServer, OnConnectionSeesEachConnectionComeUpAndGoDown) {
  std::atomic<int> up{0}, down{0};
  std::atomic<std::uint16_t> peer_port{0};
  ServerOptions options;
  options.on_connection = [&](const TcpConnectionPtr& c, bool is_up) {
    if (is_up) {
      peer_port = c->peer().port();
      ++up;
    } else {
      ++down;
    }
  };
  TestServer server(hello, options);
  {
    test::Client client(server.endpoint(), 5);
    client.send_all("GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(client.receive_until_eof().has_value());
  }
  for (int i = 0; i < 500 && down.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(up.load(), 1);
  EXPECT_EQ(down.load(), 1);
  EXPECT_NE(peer_port.load(), 0);
}

}  // namespace
}  // namespace duplex::http
