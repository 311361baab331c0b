#include "duplex/reactor/timer_queue.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex {

TimerQueue::TimerQueue(EventLoop* loop)
    : loop_(loop),
      timerfd_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)),
      channel_(loop, timerfd_) {
  if (timerfd_ < 0) {
    throw Error(std::string("timerfd_create: ") + std::strerror(errno) +
                "; raise `ulimit -n` if it says too many open files");
  }
  channel_.on_read([this] { handle_expiry(); });
  channel_.enable_reading();
}

TimerQueue::~TimerQueue() {
  channel_.remove();
  ::close(timerfd_);
}

void TimerQueue::add(TimerId id, Clock::time_point when, Clock::duration interval,
                     std::function<void()> callback) {
  loop_->assert_in_loop_thread();
  timers_.emplace(id.value, Timer{interval, std::move(callback)});
  push(Entry{when, id.value});
  rearm();
}

void TimerQueue::cancel(TimerId id) {
  loop_->assert_in_loop_thread();
  timers_.erase(id.value);
  // Rebuild when dead entries dominate, so a connection that resets its timer forever
  // cannot grow the heap without bound.
  if (heap_.size() > 64 && heap_.size() > 2 * timers_.size()) {
    std::erase_if(heap_, [this](const Entry& e) { return !timers_.contains(e.id); });
    std::make_heap(heap_.begin(), heap_.end());
  }
  drop_cancelled_top();
}

void TimerQueue::push(Entry e) {
  heap_.push_back(e);
  std::push_heap(heap_.begin(), heap_.end());
}

void TimerQueue::drop_cancelled_top() {
  while (!heap_.empty() && !timers_.contains(heap_.front().id)) {
    std::pop_heap(heap_.begin(), heap_.end());
    heap_.pop_back();
  }
}

void TimerQueue::rearm() {
  drop_cancelled_top();
  if (heap_.empty()) return;  // a stale expiry just finds nothing due
  const Clock::time_point when = heap_.front().when;
  if (armed_ == when) return;
  armed_ = when;
  // steady_clock is CLOCK_MONOTONIC on Linux, so its epoch is the timerfd's.
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch());
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(ns.count() / 1'000'000'000);
  spec.it_value.tv_nsec = static_cast<long>(ns.count() % 1'000'000'000);
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  ::timerfd_settime(timerfd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void TimerQueue::handle_expiry() {
  std::uint64_t ticks;
  while (::read(timerfd_, &ticks, sizeof ticks) > 0) {
  }
  armed_ = {};
  const Clock::time_point now = Clock::now();
  // Run only what is due now; timers added by callbacks wait for the next round, so a
  // zero-delay timer that re-adds itself cannot starve the loop.
  std::vector<Entry> due;
  while (!heap_.empty() && heap_.front().when <= now) {
    std::pop_heap(heap_.begin(), heap_.end());
    due.push_back(heap_.back());
    heap_.pop_back();
  }
  for (const Entry& e : due) {
    auto it = timers_.find(e.id);
    if (it == timers_.end()) continue;  // cancelled, maybe by an earlier callback this round
    // Move the callback out: the callback may cancel itself (erasing its map entry) or add
    // timers (rehashing the map) while it runs.
    std::function<void()> cb = std::move(it->second.callback);
    const Clock::duration interval = it->second.interval;
    if (interval == Clock::duration::zero()) timers_.erase(it);
    cb();
    if (interval != Clock::duration::zero()) {
      auto again = timers_.find(e.id);
      if (again != timers_.end()) {
        again->second.callback = std::move(cb);
        push(Entry{std::max(e.when + interval, now), e.id});
      }
    }
  }
  rearm();
}

}  // namespace duplex
