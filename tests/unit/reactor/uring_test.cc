// The completion side of the io_uring back-end (reactor/uring.h), driven directly. These run
// in the uring.* pass (DUPLEX_BACKEND=uring); on epoll a loop has no ring and they skip.
#include "duplex/reactor/uring.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "duplex/reactor/event_loop.h"

namespace duplex {
namespace {

using namespace std::chrono_literals;

struct Recorder final : UringOp {
  Recorder() : UringOp(&done) {}
  Uring* ring = nullptr;
  std::string bytes;
  std::vector<int> results;
  int finals = 0;
  std::function<void()> on_final;
  static void done(UringOp* op, int res, std::uint32_t flags) {
    auto* r = static_cast<Recorder*>(op);
    r->results.push_back(res);
    if (res > 0) {
      r->bytes.append(r->ring->buffer(flags), static_cast<std::size_t>(res));
      r->ring->recycle(res, flags);
    }
    if (!Uring::more(flags)) {
      ++r->finals;
      if (r->on_final) r->on_final();
    }
  }
};

class SocketPair {
 public:
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0); }
  ~SocketPair() {
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }
  int operator[](int i) const { return fds_[i]; }

 private:
  int fds_[2] = {-1, -1};
};

#define NEED_RING(loop) \
  if ((loop).uring() == nullptr) GTEST_SKIP() << "this loop runs on epoll (no ring)"

// A loop, a socket pair and a multishot receive on p[0] recorded in r.
class UringReceive : public ::testing::Test {
 protected:
  void SetUp() override {
    NEED_RING(loop);
    r.ring = loop.uring();
    loop.uring()->recv(p[0], &r);
  }

  // The loop goes first: a receive still out ends with kGone into a live recorder.
  SocketPair p;
  Recorder r;
  EventLoop loop;
};

TEST_F(UringReceive, DeliversEverySendUntilCancelledThenEndsOnce) {
  ASSERT_EQ(::write(p[1], "one", 3), 3);
  loop.run_after(1ms, [&] { ASSERT_EQ(::write(p[1], "two", 3), 3); });
  loop.run_every(1ms, [&] {
    if (r.bytes == "onetwo" && r.finals == 0) loop.uring()->cancel(&r);
  });
  r.on_final = [&] { loop.quit(); };
  loop.run_after(20s, [&] { loop.quit(); });  // bound, if a completion is lost
  loop.loop();
  EXPECT_EQ(r.bytes, "onetwo");
  EXPECT_EQ(r.finals, 1);
  ASSERT_FALSE(r.results.empty());
  EXPECT_EQ(r.results.back(), -ECANCELED);
}

TEST_F(UringReceive, EndsWithEndOfFile) {
  ASSERT_EQ(::write(p[1], "last", 4), 4);
  ASSERT_EQ(::shutdown(p[1], SHUT_WR), 0);
  r.on_final = [&] { loop.quit(); };
  loop.run_after(20s, [&] { loop.quit(); });
  loop.loop();
  EXPECT_EQ(r.bytes, "last");
  EXPECT_EQ(r.finals, 1);
  EXPECT_EQ(r.results.back(), 0);
}

TEST(Uring, SendCompletesWithTheByteCount) {
  EventLoop loop;
  NEED_RING(loop);
  SocketPair p;
  Recorder s;
  s.ring = loop.uring();
  const std::string data(100000, 'x');  // more than the socket takes at once: the kernel waits
  loop.uring()->send(p[0], data.data(), data.size(), MSG_WAITALL, &s);
  std::string got;
  loop.run_every(1ms, [&] {
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(p[1], buf, sizeof buf, MSG_DONTWAIT)) > 0)
      got.append(buf, static_cast<std::size_t>(n));
    if (s.finals == 1 && got.size() == data.size()) loop.quit();
  });
  loop.run_after(20s, [&] { loop.quit(); });
  loop.loop();
  ASSERT_EQ(s.finals, 1);
  EXPECT_EQ(s.results.back(), static_cast<int>(data.size()));
  EXPECT_EQ(got, data);
}

// A loop destroyed with a receive out ends it with kGone, once, and whatever the op starts
// in answer ends at once with kGone too: nothing is left holding what it held.
TEST(Uring, DestroyingTheLoopEndsWhatIsOutWithGone) {
  SocketPair p;
  Recorder r;
  int restarts = 0;
  {
    EventLoop loop;
    NEED_RING(loop);
    r.ring = loop.uring();
    loop.uring()->recv(p[0], &r);
    r.on_final = [&] {
      if (restarts++ == 0) r.ring->recv(p[0], &r);  // tries to start another
    };
    loop.run_after(1ms, [&] { loop.quit(); });
    loop.loop();  // a round or more: the receive is out
  }
  EXPECT_EQ(r.finals, 2);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0], Uring::kGone);
  EXPECT_EQ(r.results[1], Uring::kGone);
}

}  // namespace
}  // namespace duplex
