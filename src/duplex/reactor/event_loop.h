// Public. The reactor: one EventLoop per thread waits for ready file descriptors, due
// timers and work handed over by other threads, and runs their callbacks in its thread.
//
// Threading: a loop belongs to the thread that constructed it and is touched only there,
// except for the methods marked "any thread". Other threads hand work over with
// run_in_loop()/queue_in_loop(), which wake the loop through an eventfd.
//
// Back-ends: epoll (readiness) or io_uring (completions; uring.h). Each loop takes the
// process's default back-end when it is made: DUPLEX_BACKEND=epoll|uring, or
// set_default_backend() (a server's --backend flag). Where io_uring is refused (an old
// kernel, seccomp, kernel.io_uring_disabled) the loop says so once and uses epoll.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "duplex/reactor/timer_queue.h"

namespace duplex {

class Channel;
class Poller;
class Uring;

enum class Backend { kEpoll, kUring };

// "epoll", "uring"; parse_backend() takes the same words.
const char* backend_name(Backend b) noexcept;
std::optional<Backend> parse_backend(std::string_view word) noexcept;

class EventLoop {
 public:
  using Functor = std::function<void()>;

  // Any thread. The back-end of loops made from now on. Without a call, DUPLEX_BACKEND
  // decides (a value that is neither word is named in one line and ignored), else epoll.
  static void set_default_backend(Backend b) noexcept;
  static Backend default_backend() noexcept;

  // Throws duplex::Error if this thread already has a loop or the kernel refuses an fd.
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Loop thread only. Runs until quit(); then runs the work still queued, so that what
  // quit()'s caller queued before it (closing connections, say) is not lost. It can be
  // called again after it returned: each quit() ends one loop().
  void loop();
  // Any thread. Makes loop() return after the current round.
  void quit();

  // Any thread. Runs f now when called in the loop thread, else queues it.
  void run_in_loop(Functor f);
  // Any thread. Runs f after the current round's callbacks, in the loop thread.
  void queue_in_loop(Functor f);
  // Any thread. How much work is queued.
  std::size_t queue_size() const;

  // Any thread. Timers; the callback runs in the loop thread. The id is valid at once: a
  // cancel() of it wins even while the add from another thread is still queued.
  TimerId run_at(Clock::time_point when, Functor f);
  TimerId run_after(Clock::duration delay, Functor f);
  TimerId run_every(Clock::duration interval, Functor f);
  // Any thread; also from inside a timer's callback, the timer's own included. Cancelling a
  // timer that has run or was cancelled already does nothing.
  void cancel(TimerId id);

  // Any thread.
  bool is_in_loop_thread() const noexcept { return thread_ == std::this_thread::get_id(); }
  // Aborts with a message naming the misuse when called from another thread.
  void assert_in_loop_thread() const;
  // The loop of the calling thread, or nullptr.
  static EventLoop* of_this_thread() noexcept;

  // Loop thread only. When the last poll returned: a cheap "now" for callbacks.
  Clock::time_point poll_time() const noexcept { return poll_time_; }
  // Any thread. The back-end this loop runs on (epoll after a refused io_uring).
  Backend backend() const noexcept { return backend_; }
  // Loop thread only. The completion interface on io_uring, nullptr on epoll.
  Uring* uring() const noexcept { return uring_; }

  // Loop thread only. How many rounds the loop has run.
  std::uint64_t rounds() const noexcept { return rounds_; }

  // Loop thread only; for Channel. A channel removed while the round's callbacks run is
  // not dispatched later in that round (a callback may have destroyed it).
  void update_channel(Channel* channel);
  void remove_channel(Channel* channel);

 private:
  void wake();
  void handle_wake();
  void run_queued();
  TimerId add_timer(Clock::time_point when, Clock::duration interval, Functor f);

  const std::thread::id thread_;
  std::atomic<bool> quit_{false};
  bool running_queued_ = false;
  std::uint64_t rounds_ = 0;
  Clock::time_point poll_time_{};
  std::unique_ptr<Poller> poller_;
  Uring* uring_;  // poller_'s completion side, or nullptr
  Backend backend_;
  int wakefd_;
  std::unique_ptr<Channel> wake_channel_;
  std::unique_ptr<TimerQueue> timers_;
  std::vector<Channel*> ready_;
  bool dispatching_ = false;  // ready_'s callbacks are running
  std::atomic<std::uint64_t> next_timer_{1};

  mutable std::mutex mutex_;
  std::vector<Functor> queued_;  // guarded by mutex_
  // Timers that other threads added and whose add is still queued; cancel() takes the id
  // out, and the add then drops the timer. Guarded by mutex_; the count is read without it.
  std::unordered_set<std::uint64_t> queued_timers_;
  std::atomic<std::size_t> queued_timer_count_{0};
  // Set with the queue, read without the lock: an idle round costs no mutex.
  std::atomic<bool> has_queued_{false};
};

}  // namespace duplex
