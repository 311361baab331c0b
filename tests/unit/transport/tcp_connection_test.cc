#include "duplex/transport/tcp_connection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "echo_server.h"

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

TEST(TcpConnection, HalfClosedClientStillReceivesEverything) {
  EchoServer server;
  Client c(server.endpoint());
  const std::string data = pattern(2 << 20, 7);
  ASSERT_TRUE(c.send_all(data));
  c.shutdown_write();
  auto back = c.receive_until_eof();
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->size(), data.size());
  EXPECT_TRUE(*back == data);
}

TEST(TcpConnection, ShutdownWriteSendsFinOnlyAfterTheQueuedOutput) {
  const std::string data = pattern(1 << 20, 3);
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (!c->connected()) return;
      c->send(data);
      c->shutdown_write();
    });
  });
  Client c(server.endpoint());
  auto got = c.receive_until_eof();
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(*got == data);
}

TEST(TcpConnection, PeerResetInTheMiddleOfAWriteClosesNamingTheErrno) {
  std::promise<std::string> reason;
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (c->connected()) {
        c->send(pattern(32 << 20));  // far more than the socket buffers hold
      } else {
        reason.set_value(c->close_reason());
      }
    });
  });
  Client c(server.endpoint());
  EXPECT_EQ(c.receive(1000).size(), 1000u);
  c.reset();
  auto result = reason.get_future();
  ASSERT_EQ(result.wait_for(20s), std::future_status::ready);
  const std::string why = result.get();
  EXPECT_TRUE(why.find("ECONNRESET") != std::string::npos || why.find("EPIPE") != std::string::npos)
      << why;
}

// A peer that sends without reading: with a high-water mark that pauses reading, the
// server holds at most about the mark plus one read, however much the peer pushes.
TEST(TcpConnection, HighWaterMarkKeepsASlowReadersOutputBounded) {
  constexpr std::size_t kMark = 256 * 1024;
  std::atomic<std::size_t> peak{0};
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (!c->connected()) return;
      c->set_high_water_mark(kMark, [](const TcpConnectionPtr& conn, std::size_t) {
        conn->pause_reading();
        conn->set_write_complete_callback([](const TcpConnectionPtr& d) { d->resume_reading(); });
      });
    });
    s.set_message_callback([&](const TcpConnectionPtr& c, Buffer& in, Clock::time_point) {
      c->send(in);
      std::size_t now = c->output_bytes(), seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
    });
  });
  Client c(server.endpoint(), 1);  // sends give up after 1 s once both sides are full
  const std::string chunk = pattern(64 * 1024);
  std::size_t sent = 0;
  for (int i = 0; i < 1024 && c.send_all(chunk); ++i) sent += chunk.size();  // <= 64 MiB
  EXPECT_LT(sent, 64u << 20) << "the server never pushed back";
  EXPECT_LE(peak.load(), kMark + 2 * Buffer::kExtraReadSize + 64 * 1024);
}

TEST(TcpConnection, SendFromAnotherThreadReachesThePeer) {
  std::promise<TcpConnectionPtr> conn;
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (c->connected()) conn.set_value(c);
    });
  });
  Client c(server.endpoint());
  TcpConnectionPtr server_side = conn.get_future().get();
  std::thread other([&] { server_side->send("from another thread"); });
  other.join();
  EXPECT_EQ(c.receive(19), "from another thread");
}

TEST(TcpConnection, IdleConnectionIsClosedAfterTheTimeout) {
  std::promise<std::string> reason;
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (c->connected()) {
        c->set_idle_timeout(50ms);
      } else {
        reason.set_value(c->close_reason());
      }
    });
  });
  Client c(server.endpoint());
  EXPECT_EQ(c.receive_until_eof(), std::optional<std::string>(""));
  EXPECT_EQ(reason.get_future().get(), "idle timeout");
}

TEST(TcpConnection, ForceCloseFromAnotherThreadEndsTheConnection) {
  std::promise<TcpConnectionPtr> conn;
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (c->connected()) conn.set_value(c);
    });
  });
  Client c(server.endpoint());
  TcpConnectionPtr server_side = conn.get_future().get();
  server_side->force_close();
  EXPECT_EQ(c.receive_until_eof(), std::optional<std::string>(""));
}

TEST(TcpConnection, CountsBytesEachWay) {
  std::promise<std::pair<std::uint64_t, std::uint64_t>> counts;
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (!c->connected()) counts.set_value({c->bytes_received(), c->bytes_sent()});
    });
  });
  {
    Client c(server.endpoint());
    c.send_all(std::string(12345, 'b'));
    EXPECT_EQ(c.receive(12345).size(), 12345u);
  }
  auto [in, out] = counts.get_future().get();
  EXPECT_EQ(in, 12345u);
  EXPECT_EQ(out, 12345u);
}

}  // namespace
}  // namespace duplex::test
