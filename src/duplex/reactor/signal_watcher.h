// Public. Delivers signals (SIGINT, SIGTERM, ...) to a loop through a signalfd, so a
// graceful stop runs as an ordinary callback in the loop thread rather than in a handler.
//
// The constructor blocks the signals in the calling thread; threads started afterwards
// inherit the mask. Construct it before starting other threads (LoopThreadPool::start),
// or a thread that still accepts the signal may take its default action instead.
// Loop thread only.
#pragma once

#include <csignal>
#include <functional>
#include <initializer_list>

#include "duplex/reactor/channel.h"

namespace duplex {

class EventLoop;

class SignalWatcher {
 public:
  using Callback = std::function<void(int signo)>;

  SignalWatcher(EventLoop* loop, std::initializer_list<int> signals, Callback cb);
  ~SignalWatcher();  // unblocks the signals again
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void handle_read();

  sigset_t set_;
  sigset_t old_;
  int fd_;
  Channel channel_;
  Callback cb_;
};

}  // namespace duplex
