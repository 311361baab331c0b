// Internal to transport/. Makes one outgoing TCP connection for TcpClient: a non-blocking
// connect to each candidate endpoint in turn (each with its own timeout), then, if all
// fail and retry is on, again after a back-off that doubles up to a maximum.
// Loop thread only, except start() and stop().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duplex/inet/endpoint.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/timer_queue.h"
#include "duplex/transport/socket.h"

namespace duplex {

class EventLoop;

class Connector : public std::enable_shared_from_this<Connector> {
 public:
  using Connected = std::function<void(Socket, const inet::Endpoint& peer)>;
  using Failed = std::function<void(const std::string& why)>;
  // One endpoint failed (refused, unreachable, timed out); the next is tried after it.
  using AttemptFailed = std::function<void(const inet::Endpoint& peer, const std::string& why)>;

  Connector(EventLoop* loop, std::vector<inet::Endpoint> peers, Clock::duration timeout);
  ~Connector();

  void on_connected(Connected cb) { connected_cb_ = std::move(cb); }
  void on_failed(Failed cb) { failed_cb_ = std::move(cb); }
  void on_attempt_failed(AttemptFailed cb) { attempt_failed_cb_ = std::move(cb); }
  // Binds each attempt's socket to local_for(local, peer) before it connects (nc -s ADDR
  // -p PORT; see socket.h).
  void set_local(const inet::Endpoint& local) { local_ = local; }
  // Retry after every endpoint failed: first after `initial`, doubling up to `max`.
  void set_retry(bool on, Clock::duration initial, Clock::duration max);

  void start();  // any thread
  void stop();   // any thread: abandons the attempt under way and any retry
  // Loop thread: another round after the back-off (a connection dropped, retry is on).
  void retry_later();

 private:
  void start_round();
  void try_current();
  void handle_writable();
  void fail_attempt(int err);
  void drop_channel();

  EventLoop* loop_;
  std::vector<inet::Endpoint> peers_;
  Clock::duration timeout_;
  std::optional<inet::Endpoint> local_;
  bool retry_ = false;
  Clock::duration initial_backoff_{};
  Clock::duration max_backoff_{};
  Clock::duration backoff_{};
  bool active_ = false;
  std::size_t index_ = 0;
  Socket socket_;
  std::unique_ptr<Channel> channel_;
  TimerId timeout_timer_;
  TimerId retry_timer_;
  std::string last_error_;
  Connected connected_cb_;
  Failed failed_cb_;
  AttemptFailed attempt_failed_cb_;
};

}  // namespace duplex
