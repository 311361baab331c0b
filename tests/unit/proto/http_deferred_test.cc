// Answers given later (Response::defer): the loop serves other connections meanwhile, the
// answer keeps the connection's order, and a peer gone, an answer dropped or one that never
// comes harm nothing.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>

#include "duplex/proto/http_server.h"
#include "http_test_server.h"

namespace duplex::http {
namespace {

using namespace std::chrono_literals;
using test::count;
using test::read_response;
using test::TestServer;

// A handler that answers /later through a DeferredResponse the test completes (from its
// own thread), and anything else at once.
class Deferring {
 public:
  Handler handler() {
    return [this](const Request& req, Response& res) {
      if (req.path != "/later") return test::hello(req, res);
      res.set("X-Set-Before", "defer");  // as a wrapper's security headers are
      std::lock_guard lock(mutex_);
      waiting_.push_back(res.defer());
    };
  }
  std::size_t waiting() {
    std::lock_guard lock(mutex_);
    return waiting_.size();
  }
  DeferredResponse take() {
    std::lock_guard lock(mutex_);
    auto d = waiting_.front();
    waiting_.pop_front();
    return d;
  }

 private:
  std::mutex mutex_;
  std::deque<DeferredResponse> waiting_;
};

Response done(int status = 201) {
  Response res;
  res.text(status, "done");
  return res;
}

bool nothing_to_read(test::Client& client) {
  char c;
  return ::recv(client.fd(), &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

constexpr std::string_view kLater = "GET /later HTTP/1.1\r\nHost: h\r\n\r\n";
constexpr std::string_view kNow = "GET /now HTTP/1.1\r\nHost: h\r\n\r\n";

TEST(HttpDeferred, TheAnswerLeavesWhenCompletedAndOtherConnectionsAreServedMeanwhile) {
  Deferring deferring;
  TestServer server(deferring.handler());
  test::Client waiting(server.endpoint(), 5);
  ASSERT_TRUE(waiting.send_all(kLater));
  ASSERT_TRUE(test::wait_until([&] { return deferring.waiting() == 1; }));
  test::Client other(server.endpoint(), 5);
  ASSERT_TRUE(other.send_all(kNow));
  const auto now = read_response(other);
  EXPECT_EQ(now.substr(0, 12), "HTTP/1.1 200");
  EXPECT_TRUE(nothing_to_read(waiting)) << "answered before complete()";
  deferring.take().complete(done());
  const auto later = read_response(waiting);
  EXPECT_EQ(later.substr(0, 12), "HTTP/1.1 201");
  EXPECT_NE(later.find("\r\nX-Set-Before: defer\r\n"), std::string::npos) << later;
  EXPECT_EQ(later.substr(later.size() - 4), "done");
  // The connection goes on.
  ASSERT_TRUE(waiting.send_all(kNow));
  EXPECT_EQ(read_response(waiting).substr(0, 12), "HTTP/1.1 200");
}

TEST(HttpDeferred, RequestsPipelinedBehindItAreAnsweredAfterItInOrder) {
  Deferring deferring;
  TestServer server(deferring.handler());
  test::Client client(server.endpoint(), 5);
  ASSERT_TRUE(client.send_all(std::string(kLater) + std::string(kNow) + std::string(kNow)));
  ASSERT_TRUE(test::wait_until([&] { return deferring.waiting() == 1; }));
  EXPECT_TRUE(nothing_to_read(client)) << "a later request was answered first";
  deferring.take().complete(done());
  std::string replies;
  while (count(replies, "hello /now") < 2) {
    const auto more = client.receive(1);
    ASSERT_FALSE(more.empty()) << replies;
    replies += more;
  }
  EXPECT_EQ(count(replies, "HTTP/1.1 "), 3u);
  EXPECT_LT(replies.find("HTTP/1.1 201"), replies.find("HTTP/1.1 200")) << replies;
}

TEST(HttpDeferred, CompletedAfterThePeerLeftItIsDropped) {
  Deferring deferring;
  TestServer server(deferring.handler());
  {
    test::Client client(server.endpoint(), 5);
    ASSERT_TRUE(client.send_all(kLater));
    ASSERT_TRUE(test::wait_until([&] { return deferring.waiting() == 1; }));
    client.reset();
  }
  ASSERT_TRUE(test::wait_until([&] { return server.released() == 1; }));
  deferring.take().complete(done());
  test::Client next(server.endpoint(), 5);  // the server is unharmed
  ASSERT_TRUE(next.send_all(kNow));
  EXPECT_EQ(read_response(next).substr(0, 12), "HTTP/1.1 200");
}

TEST(HttpDeferred, AnAnswerDroppedUncompletedIs500) {
  TestServer server([](const Request&, Response& res) { (void)res.defer(); });
  test::Client client(server.endpoint(), 5);
  ASSERT_TRUE(client.send_all(kLater));
  const auto reply = read_response(client);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 500");
  EXPECT_NE(reply.find("dropped without an answer"), std::string::npos) << reply;
}

TEST(HttpDeferred, AnAnswerThatNeverComesIs503AfterTheAnswerTimeoutAndTheConnectionCloses) {
  Deferring deferring;
  ServerOptions options = test::short_linger();
  options.answer_timeout = 100ms;
  TestServer server(deferring.handler(), options);
  test::Client client(server.endpoint(), 5);
  ASSERT_TRUE(client.send_all(kLater));
  const auto reply = client.receive_until_eof();
  ASSERT_TRUE(reply.has_value()) << "the server kept the connection";
  EXPECT_EQ(reply->substr(0, 12), "HTTP/1.1 503");
  EXPECT_NE(reply->find("Connection: close\r\n"), std::string::npos) << *reply;
  deferring.take().complete(done());  // too late: ignored
}

TEST(HttpDeferred, ResponseDeferOutsideAServerThrows) {
  Response res;
  EXPECT_THROW((void)res.defer(), std::logic_error);
}

}  // namespace
}  // namespace duplex::http
