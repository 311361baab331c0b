#include "duplex/reactor/event_loop.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <string_view>
#include <thread>
#include <vector>

#include "../prerequisite.h"
#include "duplex/base/error.h"
#include "duplex/reactor/loop_thread.h"
#include "duplex/reactor/signal_watcher.h"

namespace duplex {
namespace {

using namespace std::chrono_literals;

TEST(EventLoop, RunInLoopFromManyThreadsRunsEveryFunctorInTheLoopThread) {
  EventLoop loop;
  constexpr int kThreads = 8;
  constexpr int kEach = 2000;
  int count = 0;  // touched only in the loop thread: TSan checks that claim
  std::atomic<int> wrong_thread{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        loop.run_in_loop([&] {
          if (!loop.is_in_loop_thread()) ++wrong_thread;
          if (++count == kThreads * kEach) loop.quit();
        });
      }
    });
  }
  loop.run_after(20s, [&] { loop.quit(); });  // bound, if a functor is lost
  loop.loop();
  for (auto& t : threads) t.join();
  EXPECT_EQ(count, kThreads * kEach);
  EXPECT_EQ(wrong_thread.load(), 0);
}

// The same suites run on both back-ends (tests/CMakeLists.txt: uring.* with
// DUPLEX_BACKEND=uring); this is the check that the uring run is not epoll in disguise.
TEST(EventLoop, RunsOnTheBackendThatDuplexBackendNames) {
  const char* env = std::getenv("DUPLEX_BACKEND");
  const bool want_uring = env != nullptr && std::string_view(env) == "uring";
  EventLoop loop;
  if (want_uring && loop.backend() != Backend::kUring)
    DUPLEX_SKIP_UNLESS_CI("this kernel refused io_uring (the loop fell back to epoll)");
  EXPECT_EQ(loop.backend(), want_uring ? Backend::kUring : Backend::kEpoll);
  EXPECT_EQ(loop.uring() != nullptr, want_uring);
}

TEST(EventLoop, ParsesBackendNames) {
  EXPECT_EQ(parse_backend("epoll"), Backend::kEpoll);
  EXPECT_EQ(parse_backend("uring"), Backend::kUring);
  EXPECT_EQ(parse_backend("io_uring"), Backend::kUring);
  EXPECT_FALSE(parse_backend("kqueue").has_value());
  EXPECT_FALSE(parse_backend("").has_value());
  EXPECT_STREQ(backend_name(Backend::kUring), "uring");
  EXPECT_STREQ(backend_name(Backend::kEpoll), "epoll");
}

TEST(EventLoop, RunInLoopFromTheLoopThreadRunsAtOnce) {
  EventLoop loop;
  bool ran = false;
  loop.run_in_loop([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(EventLoop, QueuedWorkQueuingMoreWorkStillRunsWithoutAnotherEvent) {
  EventLoop loop;
  int depth = 0;
  loop.queue_in_loop([&] {
    ++depth;
    loop.queue_in_loop([&] {
      ++depth;
      loop.quit();
    });
  });
  loop.run_after(5s, [&] { loop.quit(); });
  loop.loop();
  EXPECT_EQ(depth, 2);
}

TEST(EventLoop, LoopRunsAgainAfterAQuitEndedIt) {
  EventLoop loop;
  loop.queue_in_loop([&] { loop.quit(); });
  loop.loop();
  // The second run must wait for its own quit: the timer at 20 ms fires first.
  bool timer_ran = false;
  loop.run_after(20ms, [&] {
    timer_ran = true;
    loop.quit();
  });
  loop.loop();
  EXPECT_TRUE(timer_ran);
}

TEST(EventLoop, ASecondLoopInOneThreadIsRefused) {
  EventLoop loop;
  EXPECT_THROW(EventLoop second, Error);
}

TEST(EventLoop, QuitFromAnotherThreadWakesTheLoop) {
  EventLoop loop;
  std::promise<void> running;
  // Quits once the loop has started, i.e. while it waits in epoll with nothing to do.
  std::thread t([&] {
    running.get_future().wait();
    loop.quit();
  });
  loop.queue_in_loop([&] { running.set_value(); });
  // Without the wake-up only this timer (or the 10 s poll timeout) would end the wait.
  bool guard_fired = false;
  const TimerId guard = loop.run_after(5s, [&] {
    guard_fired = true;
    loop.quit();
  });
  loop.loop();
  t.join();
  loop.cancel(guard);
  EXPECT_FALSE(guard_fired) << "quit() from another thread did not wake the loop";
}

TEST(EventLoop, TimersSetFromAnotherThreadRunInTheLoopThread) {
  EventLoop loop;
  std::atomic<bool> in_loop_thread{false};
  std::thread t([&] {
    loop.run_after(1ms, [&] {
      in_loop_thread = loop.is_in_loop_thread();
      loop.quit();
    });
  });
  loop.run_after(5s, [&] { loop.quit(); });
  loop.loop();
  t.join();
  EXPECT_TRUE(in_loop_thread.load());
}

TEST(LoopThreadPool, HandsOutItsLoopsRoundRobin) {
  EventLoop base;
  LoopThreadPool pool(&base, 3);
  pool.start();
  EventLoop* a = pool.next_loop();
  EventLoop* b = pool.next_loop();
  EventLoop* c = pool.next_loop();
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_NE(a, &base);
  EXPECT_EQ(pool.next_loop(), a);
}

TEST(LoopThreadPool, WithoutThreadsUsesTheBaseLoop) {
  EventLoop base;
  LoopThreadPool pool(&base, 0);
  pool.start();
  EXPECT_EQ(pool.next_loop(), &base);
}

TEST(LoopThreadPool, WorkQueuedBeforeStopStillRuns) {
  EventLoop base;
  std::atomic<int> ran{0};
  {
    LoopThreadPool pool(&base, 2);
    pool.start();
    for (EventLoop* l : pool.loops()) l->queue_in_loop([&] { ++ran; });
    pool.stop();
  }
  EXPECT_EQ(ran.load(), 2);
}

TEST(SignalWatcher, DeliversSigtermAsACallbackInTheLoop) {
  EventLoop loop;
  int got = 0;
  SignalWatcher w(&loop, {SIGTERM}, [&](int signo) {
    got = signo;
    loop.quit();
  });
  loop.run_after(5s, [&] { loop.quit(); });
  loop.queue_in_loop([] { ::kill(::getpid(), SIGTERM); });
  loop.loop();
  EXPECT_EQ(got, SIGTERM);
}

}  // namespace
}  // namespace duplex
