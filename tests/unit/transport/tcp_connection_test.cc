#include "duplex/transport/tcp_connection.h"

#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <thread>

#include "duplex/reactor/event_loop.h"
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

// With a peer-shutdown callback, the peer's FIN leaves the connection open for writing:
// the owner sees the unread tail (a last line without its newline), answers later in
// another round, and the connection closes once its own FIN is out.
TEST(TcpConnection, PeerShutdownCallbackAnswersAfterTheFinAndThenCloses) {
  std::promise<std::string> unread_seen;
  std::promise<void> closed;
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (!c->connected()) {
        closed.set_value();
        return;
      }
      c->set_message_callback([](const TcpConnectionPtr&, Buffer&, Clock::time_point) {
        // Leave every byte unread: it must reach the shutdown callback.
      });
      c->set_peer_shutdown_callback([&](const TcpConnectionPtr& conn, Buffer& unread) {
        std::string tail(unread.view());
        unread.retrieve_all();
        unread_seen.set_value(tail);
        EXPECT_TRUE(conn->connected());
        conn->loop()->run_after(std::chrono::milliseconds(20), [conn, tail] {
          conn->send("got " + tail);
          conn->shutdown_write();
        });
      });
    });
  });
  Client c(server.endpoint());
  ASSERT_TRUE(c.send_all("last line"));
  c.shutdown_write();
  auto back = c.receive_until_eof();
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, "got last line");
  auto tail = unread_seen.get_future();
  ASSERT_EQ(tail.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(tail.get(), "last line");
  EXPECT_EQ(closed.get_future().wait_for(10s), std::future_status::ready);
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

// A connection that only sends (a feed, a download) is busy, not idle: what it sends
// straight to the kernel, with nothing queued, counts as activity too.
TEST(TcpConnection, ConnectionThatOnlySendsIsNotClosedAsIdle) {
  TimerId pusher;  // server loop thread only
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (!c->connected()) {
        c->loop()->cancel(pusher);
        return;
      }
      c->set_idle_timeout(200ms);
      pusher = c->loop()->run_every(5ms, [weak = std::weak_ptr<TcpConnection>(c)] {
        if (auto conn = weak.lock()) conn->send("x");
      });
    });
  });
  Client c(server.endpoint());
  // 200 one-byte pushes span about five idle periods.
  EXPECT_EQ(c.receive(200), std::string(200, 'x'));
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

// Two connections reading through the loop's shared buffer, each leaving a partial line
// behind: every connection gets back exactly its own lines, whole.
TEST(TcpConnection, SharedInputKeepsEachConnectionsLeftoverToItself) {
  EchoServer server({}, [](TcpServer& s) {
    s.set_connection_callback([](const TcpConnectionPtr& c) {
      if (c->connected()) c->set_shared_input(true);
    });
    s.set_message_callback([](const TcpConnectionPtr& c, Buffer& in, Clock::time_point) {
      const auto end = in.view().rfind('\n');  // echo complete lines, keep the rest
      if (end == std::string_view::npos) return;
      c->send(in.view().substr(0, end + 1));
      in.retrieve(end + 1);
    });
  });
  Client a(server.endpoint());
  Client b(server.endpoint());
  ASSERT_TRUE(a.send_all("a1\na2-"));
  EXPECT_EQ(a.receive(3), "a1\n");
  ASSERT_TRUE(b.send_all("b1\nb2-"));
  EXPECT_EQ(b.receive(3), "b1\n");
  ASSERT_TRUE(b.send_all("end\n"));
  EXPECT_EQ(b.receive(7), "b2-end\n");
  ASSERT_TRUE(a.send_all("end\n"));
  EXPECT_EQ(a.receive(7), "a2-end\n");
}

// tcpi_data_segs_out of the kernel's tcp_info (Linux 4.6+): glibc's struct tcp_info stops
// at tcpi_total_retrans, and <linux/tcp.h> cannot be included beside <netinet/tcp.h>. After
// glibc's 104 bytes come four u64 (pacing rates, bytes acked and received) and five u32
// (segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in).
std::uint32_t data_segments_out(int fd) {
  static_assert(sizeof(tcp_info) == 104);
  constexpr std::size_t kOffset = 104 + 4 * 8 + 5 * 4;
  unsigned char raw[256] = {};
  socklen_t len = sizeof raw;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, raw, &len) != 0 || len < kOffset + 4) return 0;
  std::uint32_t v = 0;
  std::memcpy(&v, raw + kOffset, sizeof v);
  return v;
}

// A head sent with send_more() waits for the file body that sendfile() sends next: both
// leave in one data segment. The control, the same head with send(), leaves alone.
TEST(TcpConnection, SendMoreHoldsTheHeadForTheSendfileThatFollows) {
  if (EventLoop::default_backend() == Backend::kUring)
    GTEST_SKIP() << "on io_uring the head waits in the ring, so a sendfile() right after it "
                    "would overtake it: there fd() is written only once output_bytes() is 0";
  const std::string head(200, 'h');
  const std::string body = pattern(8000, 5);
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(std::fwrite(body.data(), 1, body.size(), file), body.size());
  ASSERT_EQ(std::fflush(file), 0);
  const int file_fd = ::fileno(file);
  std::atomic<bool> use_more{true};
  std::promise<std::uint32_t> segments;
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (!c->connected()) return;
      if (use_more) {
        c->send_more(head);
      } else {
        c->send(head);
      }
      off_t offset = 0;
      const ssize_t n = ::sendfile(c->fd(), file_fd, &offset, body.size());
      segments.set_value(n == static_cast<ssize_t>(body.size()) ? data_segments_out(c->fd()) : 0);
    });
  });
  {
    Client c(server.endpoint());
    EXPECT_EQ(c.receive(head.size() + body.size()), head + body);
    EXPECT_EQ(segments.get_future().get(), 1u);
  }
  segments = {};
  use_more = false;
  {
    Client c(server.endpoint());
    EXPECT_EQ(c.receive(head.size() + body.size()), head + body);
    EXPECT_EQ(segments.get_future().get(), 2u);
  }
  std::fclose(file);
}

// A reader that pauses after every message and resumes in a later round: on io_uring the
// bytes that arrive between pause and the cancelled receive's end are held and delivered
// first on resume, so nothing is lost or reordered; on epoll the socket simply waits.
TEST(TcpConnection, PauseAndResumeAfterEveryMessageLosesAndReordersNothing) {
  const std::string data = pattern(4 << 20, 11);
  std::string got;  // the server loop's
  std::atomic<std::size_t> got_size{0};
  std::atomic<int> pauses{0};
  EchoServer server({}, [&](TcpServer& s) {
    s.set_message_callback([&](const TcpConnectionPtr& c, Buffer& in, Clock::time_point) {
      got.append(in.peek(), in.readable_bytes());
      in.retrieve_all();
      got_size = got.size();
      c->pause_reading();
      ++pauses;
      EXPECT_FALSE(c->reading());
      c->loop()->queue_in_loop([c] { c->resume_reading(); });
    });
  });
  Client c(server.endpoint());
  ASSERT_TRUE(c.send_all(data));
  ASSERT_TRUE(wait_until([&] { return got_size.load() >= data.size(); }));
  std::promise<std::string> all;
  server.loop()->run_in_loop([&] { all.set_value(got); });
  const std::string copy = all.get_future().get();
  EXPECT_EQ(copy.size(), data.size());
  EXPECT_TRUE(copy == data);
  EXPECT_GT(pauses.load(), 1);
}

// A connection closed while a large send is out to a peer that reads nothing: the send is
// cancelled (io_uring) or dropped (epoll), and the connection is let go, not kept alive
// by the operation that was out.
TEST(TcpConnection, ForceCloseWithASendOutToAPeerThatReadsNothingLetsTheConnectionGo) {
  std::promise<std::weak_ptr<TcpConnection>> conn;
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (!c->connected()) return;
      c->send(std::string(32 << 20, 'x'));  // far more than both socket buffers take
      c->loop()->run_after(std::chrono::milliseconds(20), [c] { c->force_close(); });
      conn.set_value(c);
    });
  });
  Client c(server.endpoint());
  std::weak_ptr<TcpConnection> weak = conn.get_future().get();
  EXPECT_TRUE(wait_until([&] { return weak.expired(); }));
}

}  // namespace
}  // namespace duplex::test
