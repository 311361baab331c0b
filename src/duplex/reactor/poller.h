// Internal to reactor/. The readiness back-end behind EventLoop. It is narrow on purpose
// (register interest, wait, unregister) so that an io_uring poller can sit beside epoll.
#pragma once

#include <memory>
#include <vector>

namespace duplex {

class Channel;

class Poller {
 public:
  virtual ~Poller() = default;
  // Waits up to timeout_ms (-1: forever) and appends the ready channels, their ready events
  // set, to `ready`. EINTR returns with nothing ready.
  virtual void poll(int timeout_ms, std::vector<Channel*>& ready) = 0;
  // Adds the channel or changes its interest.
  virtual void update(Channel* channel) = 0;
  virtual void remove(Channel* channel) = 0;
};

// epoll(7), level-triggered.
std::unique_ptr<Poller> make_epoll_poller();

}  // namespace duplex
