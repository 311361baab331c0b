// apps/: the hex dump's layout, --exec's word splitting, and the stream relay's EOF rules
// and back-pressure, over a socketpair and pipes (no network).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "duplex/apps/netcat/exec_child.h"
#include "duplex/apps/netcat/hex_dump.h"
#include "duplex/apps/netcat/stream_relay.h"
#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps {
namespace {

using namespace std::chrono_literals;

TEST(HexDump, ShowsDirectionOffsetHexAndAscii) {
  EXPECT_EQ(hex_dump('>', 0, "GET / HTTP/1.1\r\n"),
            "> 00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|\n");
}

TEST(HexDump, PadsAShortLastLineAndCountsFromTheOffset) {
  EXPECT_EQ(hex_dump('<', 0x20, "OK"),
            "< 00000020  4f 4b                                             |OK|\n");
}

TEST(SplitCommand, QuotesGroupWordsWithoutExpansion) {
  EXPECT_EQ(split_command(R"(printf '%s|' $HOME "a b" c\ d)"),
            (std::vector<std::string>{"printf", "%s|", "$HOME", "a b", "c d"}));
}

TEST(SplitCommand, UnclosedQuoteIsAParseError) {
  EXPECT_THROW(split_command("echo 'oops"), ParseError);
  EXPECT_THROW(split_command("   "), ParseError);
}

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) == 0) r = fds[0], w = fds[1];
  }
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
};

// The relay's socket on one end, the test's "peer" on the other.
struct Pair {
  int relay = -1, peer = -1;
  Pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0)
      relay = fds[0], peer = fds[1];
  }
  ~Pair() {
    if (peer >= 0) ::close(peer);
  }
};

TEST(StreamRelay, LocalEofSendsTheBytesThenFinAndTheSessionEndsAtThePeersFin) {
  EventLoop loop;
  Pipe in, out;
  Pair pair;
  ASSERT_EQ(::write(in.w, "hello", 5), 5);
  ::close(in.w);
  in.w = -1;
  StreamRelay relay(&loop, in.r, out.w, Socket(pair.relay), {});
  out.w = -1;  // the relay closes it at the peer's FIN
  bool done = false;
  RelayResult result;
  relay.start([&](const RelayResult& r) {
    done = true;
    result = r;
    loop.quit();
  });
  loop.run_after(200ms, [&] {
    char buf[16];
    EXPECT_EQ(::recv(pair.peer, buf, sizeof buf, MSG_DONTWAIT), 5);
    EXPECT_EQ(::recv(pair.peer, buf, sizeof buf, MSG_DONTWAIT), 0);  // FIN
    EXPECT_FALSE(done);                                              // waits for our side
    ::send(pair.peer, "bye", 3, 0);
    ::shutdown(pair.peer, SHUT_WR);
  });
  loop.run_after(10s, [&] { loop.quit(); });  // a bound, should the relay never end
  loop.loop();
  ASSERT_TRUE(done);
  EXPECT_FALSE(result.failed);
  EXPECT_EQ(result.bytes_sent, 5u);
  EXPECT_EQ(result.bytes_received, 3u);
  char buf[16];
  EXPECT_EQ(::read(out.r, buf, sizeof buf), 3);
  EXPECT_EQ(::read(out.r, buf, sizeof buf), 0);  // stdout closed after the peer's FIN
}

TEST(StreamRelay, ABlockedLocalOutputStopsReadingThePeer) {
  EventLoop loop;
  Pipe in, out;  // nobody reads out.r, nobody writes in.w
  Pair pair;
  ::fcntl(pair.peer, F_SETFL, O_NONBLOCK);
  RelayOptions options;
  options.high_water = 256 * 1024;
  StreamRelay relay(&loop, in.r, out.w, Socket(pair.relay), options);
  relay.start([](const RelayResult&) {});
  const std::string chunk(64 * 1024, 'x');
  std::size_t accepted = 0;
  constexpr std::size_t kCap = 256 * 1024 * 1024;  // far beyond any bounded buffering
  loop.run_every(5ms, [&] {
    for (int i = 0; i < 64 && accepted < kCap; ++i) {
      const ssize_t n = ::send(pair.peer, chunk.data(), chunk.size(), MSG_DONTWAIT);
      if (n <= 0) break;
      accepted += static_cast<std::size_t>(n);
    }
  });
  loop.run_after(500ms, [&] { loop.quit(); });
  loop.loop();
  // Pipe (64 KiB) + the relay's high-water mark + the socket buffers: a few MiB at most.
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, 32u * 1024 * 1024);
  relay.stop("test over");
}

}  // namespace
}  // namespace duplex::apps
