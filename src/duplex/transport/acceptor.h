// Internal to transport/. A listening socket on one loop that accepts connections and
// hands each to a callback.
//
// EMFILE: when the process is out of fds, the pending connection would ring the
// level-triggered epoll forever. A spare fd (/dev/null) is kept open; on EMFILE it is
// closed, the connection accepted and closed at once (the client sees it end, rather than
// hang), and the spare reopened: the muduo/libev trick. If the spare cannot be reopened,
// accepting pauses for a while instead of spinning; so it does on ENOBUFS/ENOMEM.
#pragma once

#include <functional>

#include "duplex/inet/endpoint.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/timer_queue.h"
#include "duplex/transport/socket.h"

namespace duplex {

class EventLoop;

class Acceptor {
 public:
  using NewConnection = std::function<void(Socket, const inet::Endpoint& peer)>;
  // accept(2) on the listener: the fd, or -1 with errno set.
  using AcceptFunction = std::function<int(Socket& listener, inet::Endpoint* peer)>;

  // Takes a bound, listening socket. Loop thread only, like every method here.
  Acceptor(EventLoop* loop, Socket listener, NewConnection cb);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  void start();
  // Connections dropped because the process was out of fds.
  std::uint64_t dropped() const noexcept { return dropped_; }
  // For tests: replaces accept(2), to inject the errors the kernel rarely gives (ENOBUFS).
  void set_accept_function(AcceptFunction f) { accept_ = std::move(f); }

 private:
  void handle_read();
  void handle_out_of_fds();
  void pause_accepting();

  EventLoop* loop_;
  Socket listener_;
  Channel channel_;
  NewConnection cb_;
  AcceptFunction accept_;
  int spare_fd_;
  std::uint64_t dropped_ = 0;
  TimerId retry_;
};

}  // namespace duplex
