#include "duplex/reactor/channel.h"

#include <sys/epoll.h>
#include <unistd.h>

#include "duplex/reactor/event_loop.h"

namespace duplex {

static_assert(Channel::kReadable == (EPOLLIN | EPOLLPRI) && Channel::kWritable == EPOLLOUT);

Channel::Channel(EventLoop* loop, int fd) noexcept : loop_(loop), fd_(fd) {}

Channel::~Channel() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  remove();
}

void Channel::tie(const std::shared_ptr<void>& owner) {
  owner_ = owner;
  tied_ = true;
}

void Channel::set_interest(std::uint32_t interest) {
  interest_ = interest;
  added_ = true;
  loop_->update_channel(this);
}

void Channel::remove() {
  if (!added_) return;
  interest_ = kNone;
  added_ = false;
  loop_->remove_channel(this);
}

void Channel::handle_events() {
  if (tied_) {
    std::shared_ptr<void> guard = owner_.lock();
    if (guard) dispatch();
  } else {
    dispatch();
  }
}

void Channel::dispatch() {
  // After each callback: if it destroyed this channel, touch nothing of it any more.
  bool destroyed = false;
  destroyed_ = &destroyed;
  const std::uint32_t r = ready_;
  // The error first: a reset arrives as ERR|HUP, and the error callback can name it.
  if ((r & EPOLLERR) && error_cb_) {
    error_cb_();
    if (destroyed) return;
  }
  // A hang-up with nothing left to read: the peer is gone.
  if ((r & EPOLLHUP) && !(r & EPOLLIN) && close_cb_) {
    close_cb_();
    if (destroyed) return;
  }
  if ((r & (EPOLLIN | EPOLLPRI | EPOLLRDHUP)) && read_cb_) {
    read_cb_();
    if (destroyed) return;
  }
  if ((r & EPOLLOUT) && write_cb_) {
    write_cb_();
    if (destroyed) return;
  }
  destroyed_ = nullptr;
}

bool is_pollable(int fd) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  const bool ok = ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
  ::close(ep);
  return ok;
}

}  // namespace duplex
