// Internal to reactor/. The back-end behind EventLoop. It is narrow on purpose (register
// interest, wait, unregister), so that epoll and io_uring sit side by side: epoll only
// reports readiness; io_uring reports readiness for channels too (one-shot polls, armed
// again each round, which is level-triggered) and runs completions (uring.h) besides.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace duplex {

class Channel;
class Uring;

class Poller {
 public:
  virtual ~Poller() = default;
  // Waits up to timeout_ms (-1: forever) and appends the ready channels, their ready events
  // set, to `ready`. EINTR returns with nothing ready.
  virtual void poll(int timeout_ms, std::vector<Channel*>& ready) = 0;
  // Adds the channel or changes its interest.
  virtual void update(Channel* channel) = 0;
  virtual void remove(Channel* channel) = 0;
  // Completion back-ends: the completions that the last poll() collected, run in the loop
  // thread after it returned.
  virtual void run_completions() {}
  virtual Uring* uring() noexcept { return nullptr; }
};

// epoll(7), level-triggered.
std::unique_ptr<Poller> make_epoll_poller();
// io_uring (uring_poller.cc); nullptr with the reason in *why when the kernel refuses a ring
// (too old, seccomp, kernel.io_uring_disabled, RLIMIT_MEMLOCK on old kernels).
std::unique_ptr<Poller> make_uring_poller(std::string* why);

}  // namespace duplex
