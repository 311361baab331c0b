#include "duplex/transport/acceptor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "duplex/reactor/event_loop.h"

namespace duplex {

namespace {
int open_spare() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

// Accepting several per wake-up saves an epoll round per connection under a connect
// storm; the bound keeps one listener from holding the loop while connections wait.
constexpr int kMaxAcceptsPerWake = 32;
// How long accepting pauses when accept cannot go on (no fds, no kernel memory).
constexpr auto kPause = std::chrono::milliseconds(100);
}  // namespace

Acceptor::Acceptor(EventLoop* loop, Socket listener, NewConnection cb)
    : loop_(loop),
      listener_(std::move(listener)),
      channel_(loop, listener_.fd()),
      cb_(std::move(cb)),
      spare_fd_(open_spare()) {
  channel_.on_read([this] { handle_read(); });
}

Acceptor::~Acceptor() {
  if (retry_) loop_->cancel(retry_);
  channel_.remove();
  if (spare_fd_ >= 0) ::close(spare_fd_);
}

void Acceptor::start() {
  loop_->assert_in_loop_thread();
  channel_.enable_reading();
}

void Acceptor::handle_read() {
  for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
    inet::Endpoint peer;
    const int fd = accept_ ? accept_(listener_, &peer) : listener_.accept(&peer);
    if (fd >= 0) {
      cb_(Socket(fd), peer);
      continue;
    }
    const int err = errno;
    if (err == EMFILE || err == ENFILE) {
      handle_out_of_fds();
      return;
    }
    // ECONNABORTED, EPROTO, EPERM (firewall), EINTR: that one connection is gone; go on.
    if (err == ECONNABORTED || err == EPROTO || err == EPERM || err == EINTR) continue;
    // The kernel is short of memory and the connection still waits: the level-triggered
    // listener would ring again at once. Give it a moment, as nginx does.
    if (err == ENOBUFS || err == ENOMEM) pause_accepting();
    return;  // EAGAIN: drained.
  }
}

void Acceptor::handle_out_of_fds() {
  if (spare_fd_ >= 0) {
    ::close(spare_fd_);
    const int fd = ::accept(listener_.fd(), nullptr, nullptr);
    if (fd >= 0) {
      ::close(fd);
      ++dropped_;
    }
    spare_fd_ = open_spare();
    if (spare_fd_ >= 0) return;
  }
  // No spare (another thread took the fd): stop listening for a moment rather than wake
  // up on the same pending connection in a busy loop.
  pause_accepting();
}

void Acceptor::pause_accepting() {
  if (retry_) return;
  channel_.disable_reading();
  retry_ = loop_->run_after(kPause, [this] {
    retry_ = {};
    if (spare_fd_ < 0) spare_fd_ = open_spare();
    channel_.enable_reading();
  });
}

}  // namespace duplex
