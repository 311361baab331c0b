#include "duplex/proto/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../transport/loopback.h"
#include "duplex/proto/http_router.h"
#include "duplex/transport/tcp_connection.h"
#include "http_test_server.h"
#include "http_vectors.h"

namespace duplex::http {
namespace {

using namespace std::chrono_literals;
using test::count;
using test::hello;
using test::read_response;
using test::short_linger;
using test::TestServer;

// The FIN is not the end: a client that reads it but keeps its socket open must not keep
// the server's connection either.
TEST(HttpServer, EverySmugglingVectorGetsItsStatusAndTheConnectionIsReleased) {
  TestServer server(hello, short_linger());
  std::vector<std::unique_ptr<test::Client>> clients;
  for (const auto& v : test::kBadRequests) {
    auto& client = *clients.emplace_back(std::make_unique<test::Client>(server.endpoint(), 5));
    ASSERT_TRUE(client.send_all(v.bytes)) << v.name;
    const auto reply = client.receive_until_eof();  // nullopt: the server sent no FIN
    ASSERT_TRUE(reply.has_value()) << v.name;
    EXPECT_EQ(reply->substr(0, 12), "HTTP/1.1 " + std::to_string(v.status)) << v.name;
    EXPECT_NE(reply->find("Connection: close\r\n"), std::string::npos) << v.name;
  }
  const int expected = static_cast<int>(clients.size());
  EXPECT_TRUE(test::wait_until([&] { return server.released() == expected; }))
      << server.released() << " of " << expected << " connections released";
}

TEST(HttpServer, RefusedPeerThatNeitherReadsNorClosesIsResetAfterTheLinger) {
  TestServer server(hello, short_linger());
  test::Client client(server.endpoint(), 10);
  ASSERT_TRUE(client.send_all(test::kBadRequests[0].bytes));
  ASSERT_TRUE(test::wait_until([&] { return server.released() == 1; }))
      << "the server keeps a refused peer that does not close";
  // The answer was delivered before the reset, and is still there to read.
  EXPECT_EQ(client.receive(12), "HTTP/1.1 400");
}

TEST(HttpServer, PeerThatKeepsSendingToAClosingConnectionIsResetAfterABoundedAmount) {
  ServerOptions options;
  options.linger_timeout = 60s;  // only the byte bound can end it within the test
  TestServer server(hello, options);
  test::Client client(server.endpoint(), 10);
  ASSERT_TRUE(client.send_all(test::kBadRequests[0].bytes));
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    const std::string junk(1 << 16, 'x');
    for (int i = 0; i < 4096 && !stop && client.send_all(junk); ++i) {  // at most 256 MiB
    }
  });
  const bool released = test::wait_until([&] { return server.released() == 1; });
  stop = true;
  flood.join();
  EXPECT_TRUE(released) << "the server read a closing connection's input without end";
  EXPECT_GT(server.bytes_received(), 1u << 20);  // it did linger: a refused upload may go on
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
  std::uint64_t sent = server.bytes_received();
  for (std::string_view piece : {"GET /sec", "ond HTTP/1.1\r\nHo", "st: h\r\n\r\n"}) {
    client.send_all(piece);
    sent += piece.size();
    // Each piece is read on its own before the next is sent.
    ASSERT_TRUE(test::wait_until([&] { return server.bytes_received() == sent; }));
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

TEST(HttpServer, HeadThatDoesNotArriveInTimeIsAnswered408AndReleased) {
  ServerOptions options = short_linger();
  options.header_timeout = 200ms;
  TestServer server(hello, options);
  test::Client client(server.endpoint(), 10);
  client.send_all("GET / HTTP/1.1\r\nHost:");
  const auto reply = client.receive_until_eof();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->substr(0, 12), "HTTP/1.1 408");
  // The client keeps its socket open after our FIN: the server lets go all the same.
  EXPECT_TRUE(test::wait_until([&] { return server.released() == 1; }));
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

// More than the socket buffers hold once the server's send buffer is cut to a few KiB
// (see expect_cut_off_by_send_timeout), yet under the unread output at which the session
// stops reading: so it still reads a FIN that follows the request.
constexpr std::size_t kBigBody = 768 << 10;

void big_answer(const Request&, Response& res) { res.text(200, std::string(kBigBody, 'x')); }

// What the client can still read, and whether its socket then ended (rather than timed out).
std::pair<std::size_t, bool> drain(test::Client& client) {
  std::size_t received = 0;
  char buf[65536];
  ssize_t n = 0;
  while ((n = ::recv(client.fd(), buf, sizeof buf, 0)) > 0) received += static_cast<std::size_t>(n);
  return {received, !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))};
}

// Asks for 64 MiB and reads nothing (then or after sending FIN, as `nc -N` does) until the
// server has let go: the send deadline passes with no progress however slow the machine
// is; only the generous wait grows. What the client then reads must end, and be cut short.
void expect_cut_off_by_send_timeout(bool half_close) {
  ServerOptions options;
  options.send_timeout = 300ms;
  options.on_connection = [](const TcpConnectionPtr& c, bool up) {
    const int bytes = 4096;  // a fixed, small send buffer: no autotuning absorbs the answer
    if (up) ::setsockopt(c->fd(), SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  };
  TestServer server(big_answer, options);
  test::Client client(server.endpoint(), 10);
  client.send_all("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  if (half_close) client.shutdown_write();
  ASSERT_TRUE(test::wait_until([&] { return server.released() == 1; }))
      << "the server kept a peer that reads nothing";
  const auto [received, ended] = drain(client);
  EXPECT_TRUE(ended);
  EXPECT_LT(received, kBigBody);
}

TEST(HttpServer, PeerThatDoesNotReadItsResponseIsCutOffBySendTimeout) {
  expect_cut_off_by_send_timeout(false);
}

// A half-closed peer (its FIN received) must not escape the send timeout.
TEST(HttpServer, HalfClosedPeerThatDoesNotReadItsResponseIsCutOffBySendTimeout) {
  expect_cut_off_by_send_timeout(true);
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
  ASSERT_TRUE(test::wait_until([&] { return down.load() == 1; }));
  EXPECT_EQ(up.load(), 1);
  EXPECT_EQ(down.load(), 1);
  EXPECT_NE(peer_port.load(), 0);
}

}  // namespace
}  // namespace duplex::http
