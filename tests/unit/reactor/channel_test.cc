#include "duplex/reactor/channel.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "duplex/reactor/event_loop.h"

namespace duplex {
namespace {

using namespace std::chrono_literals;

// An eventfd with a count: readable (and, like every eventfd, writable) until read.
class ReadyFd {
 public:
  ReadyFd() : fd_(::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~ReadyFd() { ::close(fd_); }
  ReadyFd(const ReadyFd&) = delete;
  ReadyFd& operator=(const ReadyFd&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Runs the loop until a callback quits it (the round still ends), bounded by a guard timer.
void run_until_quit(EventLoop& loop) {
  loop.run_after(5s, [&] { loop.quit(); });
  loop.loop();
}

// stdin at EOF, or a relay's output closed from its own write callback, drop the channel
// there: the loop must not touch it afterwards (ASan reports the write if it does).
TEST(Channel, ACallbackCanDestroyItsOwnChannel) {
  EventLoop loop;
  ReadyFd fd;
  auto channel = std::make_unique<Channel>(&loop, fd.fd());
  int reads = 0;
  int writes = 0;
  channel->on_read([&] {
    ++reads;
    loop.quit();
    channel->remove();
    channel.reset();
  });
  channel->on_write([&] {
    ++writes;
    loop.quit();
  });
  channel->enable_reading();
  channel->enable_writing();
  run_until_quit(loop);
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(writes, 0) << "a callback of the destroyed channel ran";
  EXPECT_EQ(channel, nullptr);
}

// Two channels ready in the same round, each destroying the other from its callback (without
// remove(): the destructor leaves the loop): whichever runs first, the other is gone and
// must not be dispatched.
TEST(Channel, AChannelDestroyedByAnEarlierCallbackInTheRoundIsNotDispatched) {
  EventLoop loop;
  ReadyFd fd_a, fd_b;
  auto a = std::make_unique<Channel>(&loop, fd_a.fd());
  auto b = std::make_unique<Channel>(&loop, fd_b.fd());
  int callbacks = 0;
  a->on_read([&] {
    ++callbacks;
    loop.quit();
    b.reset();
  });
  b->on_read([&] {
    ++callbacks;
    loop.quit();
    a.reset();
  });
  a->enable_reading();
  b->enable_reading();
  run_until_quit(loop);
  EXPECT_EQ(callbacks, 1);
  EXPECT_TRUE(a == nullptr || b == nullptr);
  if (a) a->remove();
  if (b) b->remove();
}

}  // namespace
}  // namespace duplex
