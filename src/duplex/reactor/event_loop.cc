#include "duplex/reactor/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "duplex/base/error.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/poller.h"

namespace duplex {

namespace {
thread_local EventLoop* t_loop = nullptr;

// With nothing to do the loop still wakes now and then; a lost wake-up (a bug) then costs
// a delay rather than a hang.
constexpr int kPollTimeoutMs = 10'000;

// 0: not chosen yet (DUPLEX_BACKEND decides at the first loop), else Backend + 1.
std::atomic<int> g_backend{0};

Backend backend_from_environment() {
  const char* env = std::getenv("DUPLEX_BACKEND");
  if (env == nullptr || *env == '\0') return Backend::kEpoll;
  if (auto b = parse_backend(env)) return *b;
  std::fprintf(stderr, "duplex: DUPLEX_BACKEND=%s is neither epoll nor uring; using epoll\n", env);
  return Backend::kEpoll;
}

// The wanted back-end, or epoll with one line (once a process) when io_uring is refused.
std::unique_ptr<Poller> make_poller(Backend want) {
  if (want == Backend::kUring) {
    std::string why;
    if (auto p = make_uring_poller(&why)) return p;
    static std::once_flag said;
    std::call_once(said, [&why] {
      std::fprintf(stderr, "duplex: io_uring is not available (%s); using epoll\n", why.c_str());
    });
  }
  return make_epoll_poller();
}
}  // namespace

const char* backend_name(Backend b) noexcept { return b == Backend::kUring ? "uring" : "epoll"; }

std::optional<Backend> parse_backend(std::string_view word) noexcept {
  if (word == "epoll") return Backend::kEpoll;
  if (word == "uring" || word == "io_uring") return Backend::kUring;
  return std::nullopt;
}

void EventLoop::set_default_backend(Backend b) noexcept {
  g_backend.store(static_cast<int>(b) + 1, std::memory_order_release);
}

Backend EventLoop::default_backend() noexcept {
  int b = g_backend.load(std::memory_order_acquire);
  if (b == 0) {
    int expected = 0;
    g_backend.compare_exchange_strong(expected, static_cast<int>(backend_from_environment()) + 1);
    b = g_backend.load(std::memory_order_acquire);
  }
  return static_cast<Backend>(b - 1);
}

EventLoop::EventLoop()
    : thread_(std::this_thread::get_id()),
      poller_(make_poller(default_backend())),
      uring_(poller_->uring()),
      backend_(uring_ != nullptr ? Backend::kUring : Backend::kEpoll),
      wakefd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (t_loop != nullptr) {
    ::close(wakefd_);
    throw Error("this thread already runs an EventLoop; use one loop per thread");
  }
  if (wakefd_ < 0) {
    throw Error(std::string("eventfd: ") + std::strerror(errno) +
                "; raise `ulimit -n` if it says too many open files");
  }
  wake_channel_ = std::make_unique<Channel>(this, wakefd_);
  wake_channel_->on_read([this] { handle_wake(); });
  wake_channel_->enable_reading();
  timers_ = std::make_unique<TimerQueue>(this);
  t_loop = this;
}

EventLoop::~EventLoop() {
  // Work queued after the last loop() never runs. Drop it while the loop is still whole:
  // what it holds (a connection whose close was queued) may leave the poller as it goes.
  std::vector<Functor> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(queued_);
  }
  dropped.clear();
  timers_.reset();
  wake_channel_->remove();
  wake_channel_.reset();
  ::close(wakefd_);
  if (t_loop == this) t_loop = nullptr;
}

EventLoop* EventLoop::of_this_thread() noexcept { return t_loop; }

void EventLoop::assert_in_loop_thread() const {
  if (!is_in_loop_thread()) {
    std::fprintf(stderr,
                 "duplex: EventLoop %p used from a thread that does not own it; hand the "
                 "work over with run_in_loop()\n",
                 static_cast<const void*>(this));
    std::abort();
  }
}

void EventLoop::loop() {
  assert_in_loop_thread();
  run_queued();  // what the loop thread queued before the loop started: nothing woke us
  while (!quit_.load(std::memory_order_acquire)) {
    ready_.clear();
    poller_->poll(kPollTimeoutMs, ready_);
    poll_time_ = Clock::now();
    ++rounds_;
    dispatching_ = true;
    poller_->run_completions();  // io_uring: receives and sends that finished
    for (Channel* c : ready_) {
      if (c != nullptr) c->handle_events();  // null: removed by an earlier callback
    }
    dispatching_ = false;
    run_queued();
  }
  // Work queued before quit(), and the work it queues in turn, a bounded number of times.
  for (int i = 0; i < 16 && queue_size() > 0; ++i) run_queued();
  // The quit is spent: loop() may run again (a quit() asked before the first loop() still
  // makes that one return at once).
  quit_.store(false, std::memory_order_release);
}

void EventLoop::quit() {
  quit_.store(true, std::memory_order_release);
  if (!is_in_loop_thread()) wake();
}

void EventLoop::run_in_loop(Functor f) {
  if (is_in_loop_thread()) {
    f();
  } else {
    queue_in_loop(std::move(f));
  }
}

void EventLoop::queue_in_loop(Functor f) {
  {
    std::lock_guard lock(mutex_);
    queued_.push_back(std::move(f));
    has_queued_.store(true, std::memory_order_release);
  }
  // From the loop thread no wake is needed while callbacks run (the queue is checked after
  // them), but it is while queued work runs: that work has already been taken.
  if (!is_in_loop_thread() || running_queued_) wake();
}

std::size_t EventLoop::queue_size() const {
  std::lock_guard lock(mutex_);
  return queued_.size();
}

void EventLoop::run_queued() {
  if (!has_queued_.load(std::memory_order_acquire)) return;
  std::vector<Functor> work;
  running_queued_ = true;
  {
    std::lock_guard lock(mutex_);
    work.swap(queued_);
    has_queued_.store(false, std::memory_order_relaxed);
  }
  for (Functor& f : work) f();
  running_queued_ = false;
}

TimerId EventLoop::run_at(Clock::time_point when, Functor f) {
  return add_timer(when, Clock::duration::zero(), std::move(f));
}

TimerId EventLoop::run_after(Clock::duration delay, Functor f) {
  return add_timer(Clock::now() + delay, Clock::duration::zero(), std::move(f));
}

TimerId EventLoop::run_every(Clock::duration interval, Functor f) {
  return add_timer(Clock::now() + interval, interval, std::move(f));
}

TimerId EventLoop::add_timer(Clock::time_point when, Clock::duration interval, Functor f) {
  const TimerId id{next_timer_.fetch_add(1, std::memory_order_relaxed)};
  if (is_in_loop_thread()) {
    timers_->add(id, when, interval, std::move(f));
    return id;
  }
  {
    std::lock_guard lock(mutex_);
    queued_timers_.insert(id.value);
    queued_timer_count_.store(queued_timers_.size(), std::memory_order_relaxed);
  }
  queue_in_loop([this, id, when, interval, f = std::move(f)]() mutable {
    {
      std::lock_guard lock(mutex_);
      if (queued_timers_.erase(id.value) == 0) return;  // cancelled while queued
      queued_timer_count_.store(queued_timers_.size(), std::memory_order_relaxed);
    }
    timers_->add(id, when, interval, std::move(f));
  });
  return id;
}

void EventLoop::cancel(TimerId id) {
  // Whoever cancels got the id after it was put in queued_timers_, so a count of zero
  // here means this timer's add is not queued. Most cancels then take no lock.
  if (queued_timer_count_.load(std::memory_order_relaxed) > 0) {
    std::lock_guard lock(mutex_);
    if (queued_timers_.erase(id.value) > 0) {
      queued_timer_count_.store(queued_timers_.size(), std::memory_order_relaxed);
      return;  // its queued add will find it gone
    }
  }
  run_in_loop([this, id] { timers_->cancel(id); });
}

void EventLoop::update_channel(Channel* channel) {
  assert_in_loop_thread();
  poller_->update(channel);
}

void EventLoop::remove_channel(Channel* channel) {
  assert_in_loop_thread();
  poller_->remove(channel);
  if (dispatching_)
    std::replace(ready_.begin(), ready_.end(), channel, static_cast<Channel*>(nullptr));
}

void EventLoop::wake() {
  std::uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the loop will wake anyway.
  [[maybe_unused]] ssize_t n = ::write(wakefd_, &one, sizeof one);
}

void EventLoop::handle_wake() {
  std::uint64_t n;
  [[maybe_unused]] ssize_t r = ::read(wakefd_, &n, sizeof n);
}

}  // namespace duplex
