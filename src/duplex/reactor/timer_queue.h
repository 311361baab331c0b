// Internal to reactor/. The timers of one EventLoop: a binary heap ordered by expiry (then
// by creation, so equal deadlines run in the order they were set), woken by one timerfd.
//
// Cancelling does not search the heap: it forgets the timer, and its heap entry is dropped
// when it reaches the top (or when cancelled entries outnumber live ones, by a rebuild).
// That keeps cancel O(1) and safe from inside any timer's callback, itself included.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "duplex/reactor/channel.h"

namespace duplex {

class EventLoop;

using Clock = std::chrono::steady_clock;

// Names a timer for cancel(); 0 is never a timer.
struct TimerId {
  std::uint64_t value = 0;
  explicit operator bool() const noexcept { return value != 0; }
  friend bool operator==(TimerId, TimerId) = default;
};

class TimerQueue {
 public:
  explicit TimerQueue(EventLoop* loop);
  ~TimerQueue();

  // Loop thread only. interval zero: runs once.
  void add(TimerId id, Clock::time_point when, Clock::duration interval,
           std::function<void()> callback);
  void cancel(TimerId id);
  std::size_t size() const noexcept { return timers_.size(); }
  // Heap entries, the cancelled ones not yet dropped included (bounded: see cancel()).
  std::size_t entries() const noexcept { return heap_.size(); }

 private:
  struct Entry {
    Clock::time_point when;
    std::uint64_t id;
    // std heap functions build a max-heap; "greater" puts the earliest on top.
    bool operator<(const Entry& o) const noexcept {
      return when != o.when ? when > o.when : id > o.id;
    }
  };
  struct Timer {
    Clock::duration interval;
    std::function<void()> callback;
  };

  void handle_expiry();
  void push(Entry e);
  void drop_cancelled_top();
  void rearm();

  EventLoop* loop_;
  int timerfd_;
  Channel channel_;
  std::vector<Entry> heap_;
  std::unordered_map<std::uint64_t, Timer> timers_;
  Clock::time_point armed_{};
};

}  // namespace duplex
