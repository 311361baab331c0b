// Public. A broker: every byte a client sends goes to all the other clients (the
// --broker of `duplex listen`, a chat hub in one class).
//
// Back-pressure: a client whose unsent backlog passes the high-water mark pauses the
// reading of every sender until its backlog drains, so one slow client slows the room
// instead of growing our memory. Loop thread only.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "duplex/inet/endpoint.h"
#include "duplex/reactor/timer_queue.h"
#include "duplex/transport/callbacks.h"
#include "duplex/transport/socket.h"
#include "duplex/transport/stream_filter.h"

namespace duplex {
class EventLoop;
}

namespace duplex::apps {

class Broker {
 public:
  // Told when a client joins (up) or leaves (!up).
  using Change = std::function<void(const TcpConnectionPtr&, bool up)>;

  explicit Broker(EventLoop* loop, std::size_t high_water = 1024 * 1024);
  ~Broker();  // closes every client
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  void on_change(Change cb) { change_ = std::move(cb); }
  // A filter (TLS) under every client from now on, and its handshake timeout. What a client
  // sends reaches the others once decrypted; a client still in its handshake gets the
  // room's bytes after it.
  // `secure` is told when a client's handshake is done.
  void set_filter(std::function<std::unique_ptr<StreamFilter>()> factory,
                  Clock::duration handshake_timeout,
                  std::function<void(const TcpConnectionPtr&)> secure = nullptr) {
    filter_ = std::move(factory);
    handshake_timeout_ = handshake_timeout;
    secure_ = std::move(secure);
  }
  // Takes an accepted, non-blocking socket.
  void add(Socket socket, const inet::Endpoint& local, const inet::Endpoint& peer);
  std::size_t size() const noexcept { return clients_.size(); }

 private:
  void relay(const TcpConnectionPtr& from, Buffer& input);
  void drained();

  EventLoop* loop_;
  std::size_t high_water_;
  std::size_t next_id_ = 1;
  std::vector<TcpConnectionPtr> clients_;
  bool paused_ = false;
  Change change_;
  std::function<std::unique_ptr<StreamFilter>()> filter_;
  Clock::duration handshake_timeout_{};
  std::function<void(const TcpConnectionPtr&)> secure_;
};

}  // namespace duplex::apps
