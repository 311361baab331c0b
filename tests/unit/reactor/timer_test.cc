#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/timer_queue.h"

namespace duplex {
namespace {

using namespace std::chrono_literals;

// Every test quits its loop from a timer, and a guard timer bounds the run if it is wrong.
void run_bounded(EventLoop& loop) {
  loop.run_after(5s, [&] { loop.quit(); });
  loop.loop();
}

TEST(Timers, RunInOrderOfExpiryNotOfCreation) {
  EventLoop loop;
  std::vector<int> order;
  loop.run_after(30ms, [&] { order.push_back(3); });
  loop.run_after(10ms, [&] { order.push_back(1); });
  loop.run_after(20ms, [&] { order.push_back(2); });
  loop.run_after(40ms, [&] { loop.quit(); });
  run_bounded(loop);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Timers, WithEqualDeadlinesRunInTheOrderTheyWereSet) {
  EventLoop loop;
  std::vector<int> order;
  const auto when = Clock::now() + 5ms;
  for (int i = 0; i < 5; ++i) loop.run_at(when, [&, i] { order.push_back(i); });
  loop.run_after(20ms, [&] { loop.quit(); });
  run_bounded(loop);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Timers, CancelledTimerNeverRuns) {
  EventLoop loop;
  bool ran = false;
  TimerId id = loop.run_after(10ms, [&] { ran = true; });
  loop.cancel(id);
  loop.run_after(30ms, [&] { loop.quit(); });
  run_bounded(loop);
  EXPECT_FALSE(ran);
}

TEST(Timers, ACallbackCanCancelALaterTimerDueInTheSameRound) {
  EventLoop loop;
  bool second_ran = false;
  const auto when = Clock::now() + 5ms;
  TimerId second;
  loop.run_at(when, [&] { loop.cancel(second); });
  second = loop.run_at(when, [&] { second_ran = true; });
  loop.run_after(30ms, [&] { loop.quit(); });
  run_bounded(loop);
  EXPECT_FALSE(second_ran);
}

TEST(Timers, RepeatingTimerStopsWhenItCancelsItself) {
  EventLoop loop;
  int ticks = 0;
  TimerId id;
  id = loop.run_every(2ms, [&] {
    if (++ticks == 3) loop.cancel(id);
  });
  loop.run_after(60ms, [&] { loop.quit(); });
  run_bounded(loop);
  EXPECT_EQ(ticks, 3);
}

TEST(Timers, OneShotTimerCancellingItselfIsHarmless) {
  EventLoop loop;
  int runs = 0;
  TimerId id;
  id = loop.run_after(2ms, [&] {
    ++runs;
    loop.cancel(id);
  });
  loop.run_after(20ms, [&] { loop.quit(); });
  run_bounded(loop);
  EXPECT_EQ(runs, 1);
}

TEST(Timers, ACallbackCanAddATimerThatRunsLater) {
  EventLoop loop;
  std::vector<int> order;
  loop.run_after(2ms, [&] {
    order.push_back(1);
    loop.run_after(2ms, [&] {
      order.push_back(2);
      loop.quit();
    });
  });
  run_bounded(loop);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

// A connection that resets its timer on every read cancels one timer per read: the heap of
// cancelled entries must stay bounded, and the live timers among them must still run.
TEST(Timers, ManyCancelledTimersStayBoundedAndDoNotKeepTheLiveOnesFromRunning) {
  EventLoop loop;
  TimerQueue queue(&loop);
  int live = 0;
  std::size_t most = 0;
  for (std::uint64_t i = 1; i <= 1000; ++i) {
    queue.add(TimerId{i}, Clock::now() + 1h, Clock::duration::zero(), [] {});
    queue.cancel(TimerId{i});
    if (i % 100 == 0)
      queue.add(TimerId{1'000'000 + i}, Clock::now() + 1ms, Clock::duration::zero(),
                [&] { ++live; });
    most = std::max(most, queue.entries());
  }
  // The rebuild starts once cancelled entries outnumber live ones and pass 64.
  EXPECT_LE(most, 65u);
  loop.run_after(30ms, [&] { loop.quit(); });
  run_bounded(loop);
  EXPECT_EQ(live, 10);
}

// The id is valid at once, from any thread: a cancel from the loop thread that comes before
// the loop has taken the other thread's queued add still wins.
TEST(Timers, ALoopThreadCancelBeatsAnAddQueuedByAnotherThread) {
  EventLoop loop;
  bool ran = false;
  TimerId id;
  std::thread other([&] { id = loop.run_after(1ms, [&] { ran = true; }); });
  other.join();
  loop.cancel(id);  // the add is still queued: the loop has not run yet
  loop.run_after(30ms, [&] { loop.quit(); });
  run_bounded(loop);
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace duplex
