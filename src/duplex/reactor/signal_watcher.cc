#include "duplex/reactor/signal_watcher.h"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex {

namespace {
int open_signalfd(sigset_t* set, sigset_t* old, std::initializer_list<int> signals) {
  sigemptyset(set);
  for (int s : signals) sigaddset(set, s);
  pthread_sigmask(SIG_BLOCK, set, old);
  int fd = ::signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    pthread_sigmask(SIG_SETMASK, old, nullptr);
    throw Error(std::string("signalfd: ") + std::strerror(err) +
                "; raise `ulimit -n` if it says too many open files");
  }
  return fd;
}
}  // namespace

SignalWatcher::SignalWatcher(EventLoop* loop, std::initializer_list<int> signals, Callback cb)
    : fd_(open_signalfd(&set_, &old_, signals)), channel_(loop, fd_), cb_(std::move(cb)) {
  loop->assert_in_loop_thread();
  channel_.on_read([this] { handle_read(); });
  channel_.enable_reading();
}

SignalWatcher::~SignalWatcher() {
  channel_.remove();
  ::close(fd_);
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

void SignalWatcher::handle_read() {
  signalfd_siginfo info;
  while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    cb_(static_cast<int>(info.ssi_signo));
  }
}

}  // namespace duplex
