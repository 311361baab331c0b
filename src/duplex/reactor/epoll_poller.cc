// Level-triggered epoll. Level-triggered because it lets a callback read a bounded amount
// and leave the rest for the next round (fairness), without the "must drain to EAGAIN"
// contract that edge-triggered mode imposes on every reader.
#include <sys/epoll.h>
#include <unistd.h>

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

// Channel::poller_slot(): -1 never added, 1 in the epoll set, 0 known but removed from it
// because it has no interest (so a quiet channel costs the kernel nothing).
constexpr int kNew = -1;
constexpr int kRemoved = 0;
constexpr int kAdded = 1;

class EpollPoller final : public Poller {
 public:
  EpollPoller() : epfd_(::epoll_create1(EPOLL_CLOEXEC)), events_(64) {
    if (epfd_ < 0) {
      throw Error(std::string("epoll_create1: ") + std::strerror(errno) +
                  "; raise `ulimit -n` if it says too many open files");
    }
  }
  ~EpollPoller() override { ::close(epfd_); }

  void poll(int timeout_ms, std::vector<Channel*>& ready) override {
    const int n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
    if (n < 0 && errno != EINTR) {
      // EBADF, EINVAL, EFAULT: the epoll fd itself is broken (closed or replaced behind
      // our back), which only a bug does. Every retry would fail at once and spin.
      std::fprintf(stderr,
                   "duplex: epoll_wait(fd %d): %s; the event loop's epoll descriptor was "
                   "closed or replaced (a bug in the program), so it stops here\n",
                   epfd_, std::strerror(errno));
      std::abort();
    }
    if (n <= 0) return;  // 0: timeout; -1: EINTR (a signal)
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<Channel*>(events_[static_cast<std::size_t>(i)].data.ptr);
      c->set_ready(events_[static_cast<std::size_t>(i)].events);
      ready.push_back(c);
    }
    // A full array means more may be ready: grow so one wait sees them all next time.
    if (static_cast<std::size_t>(n) == events_.size()) events_.resize(events_.size() * 2);
  }

  void update(Channel* c) override {
    const int slot = c->poller_slot();
    if (slot == kAdded) {
      if (c->has_no_interest()) {
        ctl(EPOLL_CTL_DEL, c);
        c->set_poller_slot(kRemoved);
      } else {
        ctl(EPOLL_CTL_MOD, c);
      }
    } else if (!c->has_no_interest()) {
      ctl(EPOLL_CTL_ADD, c);
      c->set_poller_slot(kAdded);
    }
  }

  void remove(Channel* c) override {
    if (c->poller_slot() == kAdded) ctl(EPOLL_CTL_DEL, c);
    c->set_poller_slot(kNew);
  }

 private:
  void ctl(int op, Channel* c) {
    epoll_event ev{};
    ev.events = c->interest();
    ev.data.ptr = c;
    if (::epoll_ctl(epfd_, op, c->fd(), &ev) < 0 && op != EPOLL_CTL_DEL) {
      // Only a bug gets here (a closed fd, a double add); say which fd rather than crash.
      // A failed DEL is ignored: the fd may already be closed, which removed it anyway.
      throw Error("epoll_ctl(fd " + std::to_string(c->fd()) + "): " + std::strerror(errno));
    }
  }

  int epfd_;
  std::vector<epoll_event> events_;
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller() { return std::make_unique<EpollPoller>(); }

}  // namespace duplex
