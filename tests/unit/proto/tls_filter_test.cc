// The TLS filter under two TcpConnections of one loop, joined by a socketpair: the users on
// both sides send and receive plaintext, the socket carries TLS records.
#include "duplex/proto/tls_filter.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <string>

#include "../transport/loopback.h"
#include "duplex/reactor/buffer.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::tls {
namespace {

using namespace std::chrono_literals;
using test::LoopRunner;
using test::wait_until;

const CertificateKey& identity() {
  static const CertificateKey id = generate_self_signed({"localhost"}, {"127.0.0.1"});
  return id;
}

std::shared_ptr<Context> server_context() {
  static const auto ctx = Context::server({identity(), true, {}});
  return ctx;
}

std::shared_ptr<Context> client_context(bool right_pin = true) {
  ClientOptions o;
  o.pin = fingerprint_of_pem(identity().cert_pem);
  if (!right_pin) (*o.pin)[0] ^= 1;
  o.alpn = {"http/1.1"};
  return Context::client(o);
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// One side's view, touched only in the loop thread.
struct Side {
  TcpConnectionPtr conn;
  std::string received;
  bool up = false;
  bool down = false;
  bool peer_shutdown = false;
  std::string reason;
  std::string described;
  int established = 0;  // filter-established callbacks seen
};

// Two connections over a socketpair, each with the filter given (nullptr: plain).
class PairTest : public ::testing::Test {
 protected:
  void make(std::unique_ptr<StreamFilter> fa, std::unique_ptr<StreamFilter> fb,
            Clock::duration handshake_timeout = 10s) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    runner_.call([&] {
      a_.conn = make_side(a_, Socket(fds[0]), std::move(fa), handshake_timeout, "a");
      b_.conn = make_side(b_, Socket(fds[1]), std::move(fb), handshake_timeout, "b");
      a_.conn->connect_established();
      b_.conn->connect_established();
      return 0;
    });
  }

  TcpConnectionPtr make_side(Side& side, Socket s, std::unique_ptr<StreamFilter> f,
                             Clock::duration timeout, const char* name) {
    auto c = std::make_shared<TcpConnection>(runner_.loop(), name, std::move(s), test::loopback(),
                                             test::loopback());
    if (f) c->set_filter(std::move(f), timeout);
    c->set_filter_established_callback([&side](const TcpConnectionPtr&) { ++side.established; });
    c->set_connection_callback([&side](const TcpConnectionPtr& conn) {
      if (conn->connected()) {
        side.up = true;
        return;
      }
      side.down = true;
      side.reason = conn->close_reason();
    });
    c->set_message_callback([&side](const TcpConnectionPtr& conn, Buffer& in, Clock::time_point) {
      side.received.append(in.peek(), in.readable_bytes());
      in.retrieve_all();
      if (conn->filter()) side.described = conn->filter()->describe();
    });
    c->set_close_callback([this](const TcpConnectionPtr& conn) {
      runner_.loop()->queue_in_loop([conn] { conn->connect_destroyed(); });
    });
    return c;
  }

  void TearDown() override {
    runner_.call([&] {
      for (Side* s : {&a_, &b_})
        if (s->conn) s->conn->connect_destroyed();
      a_.conn.reset();
      b_.conn.reset();
      return 0;
    });
  }

  template <typename F>
  bool until(F f) {
    return wait_until([&] { return runner_.call([&] { return f(); }); });
  }

  LoopRunner runner_;
  Side a_;  // the client
  Side b_;  // the server
};

TEST_F(PairTest, HandshakeThenDataBothWaysAsPlaintext) {
  make(std::make_unique<Filter>(client_context(), "localhost"),
       std::make_unique<Filter>(server_context()));
  // Sent before the handshake is done: waits in plaintext, then goes out encrypted.
  runner_.call([&] {
    EXPECT_TRUE(a_.conn->filtered());
    a_.conn->send("hello from a");
    return 0;
  });
  ASSERT_TRUE(until([&] { return b_.received == "hello from a"; }));
  runner_.call([&] {
    b_.conn->send("and from b");
    return 0;
  });
  ASSERT_TRUE(until([&] { return a_.received == "and from b"; }));
  runner_.call([&] {
    EXPECT_NE(b_.described.find("TLSv1.3"), std::string::npos) << b_.described;
    EXPECT_NE(b_.described.find("ALPN http/1.1"), std::string::npos) << b_.described;
    EXPECT_EQ(a_.established, 1);  // once each, when the handshake is done
    EXPECT_EQ(b_.established, 1);
    // The wire carries more than the plaintext: records and the handshake.
    EXPECT_GT(a_.conn->bytes_sent(), std::string("hello from a").size() + 200);
    EXPECT_EQ(a_.conn->bytes_sent(), b_.conn->bytes_received());
    return 0;
  });
}

// 8 MiB from a to b, which echoes it back, pausing its reading while its echo is above the
// high-water mark (the relay pattern). a does not read until b's mark is passed, so the
// mark must bound b's output; a's user then compares what comes back.
TEST_F(PairTest, LargeEchoWithBackPressureArrivesIntact) {
  make(std::make_unique<Filter>(client_context(), "localhost"),
       std::make_unique<Filter>(server_context()));
  const std::string data = pattern(8 << 20);
  std::size_t high = 0;
  ASSERT_TRUE(until([&] { return a_.conn->filter()->established(); }));
  runner_.call([&] {
    a_.conn->pause_reading();
    b_.conn->set_message_callback(
        [](const TcpConnectionPtr& c, Buffer& in, Clock::time_point) { c->send(in); });
    b_.conn->set_high_water_mark(256 * 1024, [&](const TcpConnectionPtr& c, std::size_t n) {
      high = std::max(high, n);
      c->pause_reading();
      a_.conn->resume_reading();
    });
    b_.conn->set_write_complete_callback([](const TcpConnectionPtr& c) { c->resume_reading(); });
    a_.conn->send(data);
    return 0;
  });
  ASSERT_TRUE(until([&] { return a_.received.size() >= data.size(); }))
      << runner_.call([&] { return a_.received.size(); });
  runner_.call([&] {
    EXPECT_TRUE(a_.received == data);
    EXPECT_GT(high, 0u);                // the mark was passed: back-pressure happened
    EXPECT_LT(high, 4u * 1024 * 1024);  // and it bounded b's output
    return 0;
  });
}

// shutdown_write() sends close_notify, then FIN; the peer sees it as end of stream, answers
// through its peer-shutdown callback, and both close cleanly.
TEST_F(PairTest, ShutdownWriteSendsCloseNotifyAndThePeerAnswers) {
  make(std::make_unique<Filter>(client_context(), "localhost"),
       std::make_unique<Filter>(server_context()));
  runner_.call([&] {
    b_.conn->set_peer_shutdown_callback([&](const TcpConnectionPtr& c, Buffer&) {
      b_.peer_shutdown = true;
      c->send("bye after " + b_.received);
      c->shutdown_write();
    });
    a_.conn->send("last words");
    a_.conn->shutdown_write();  // before the handshake is done, even
    return 0;
  });
  ASSERT_TRUE(until([&] { return a_.down && b_.down; }));
  runner_.call([&] {
    EXPECT_TRUE(b_.peer_shutdown);
    EXPECT_EQ(b_.received, "last words");
    EXPECT_EQ(a_.received, "bye after last words");
    EXPECT_EQ(a_.reason, "");
    EXPECT_EQ(b_.reason, "");
    return 0;
  });
}

TEST_F(PairTest, PlainHttpToTheTlsSideClosesWithAClearReason) {
  make(nullptr, std::make_unique<Filter>(server_context()));
  runner_.call([&] {
    a_.conn->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    return 0;
  });
  ASSERT_TRUE(until([&] { return a_.down && b_.down; }));
  runner_.call([&] {
    EXPECT_NE(b_.reason.find("plain HTTP"), std::string::npos) << b_.reason;
    EXPECT_EQ(b_.received, "");
    // The plain side reads a 400 in HTTP, not a TLS alert.
    EXPECT_EQ(a_.received.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << a_.received;
    EXPECT_NE(a_.received.find("use https://"), std::string::npos) << a_.received;
    return 0;
  });
}

TEST_F(PairTest, WrongPinFailsTheHandshakeOnBothSides) {
  make(std::make_unique<Filter>(client_context(false), "localhost"),
       std::make_unique<Filter>(server_context()));
  runner_.call([&] {
    a_.conn->send("secret");
    return 0;
  });
  ASSERT_TRUE(until([&] { return a_.down && b_.down; }));
  runner_.call([&] {
    EXPECT_NE(a_.reason.find("--pin"), std::string::npos) << a_.reason;
    EXPECT_FALSE(b_.reason.empty());
    EXPECT_EQ(b_.received, "");
    EXPECT_EQ(a_.established, 0);
    return 0;
  });
}

TEST_F(PairTest, StalledHandshakeIsCutOffAtTheTimeout) {
  const auto started = std::chrono::steady_clock::now();
  make(nullptr, std::make_unique<Filter>(server_context()), 300ms);
  ASSERT_TRUE(until([&] { return b_.down; }));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 290ms);
  runner_.call([&] {
    EXPECT_EQ(b_.reason, "TLS handshake not completed within 0.3 s");
    return 0;
  });
}

}  // namespace
}  // namespace duplex::tls
