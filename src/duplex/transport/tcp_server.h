// Public. A TCP server: listens on an IPv4 or IPv6 endpoint and runs each connection on
// one loop of a pool, chosen round-robin (the accepting loop hands it over), or, with
// reuse_port, on the loop whose own SO_REUSEPORT listener the kernel picked.
//
// The constructor binds and listens, so "address in use" or "port 80 needs root" throw
// there, and listen_endpoint() reports the real port when port 0 was asked for.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "duplex/inet/endpoint.h"
#include "duplex/transport/callbacks.h"
#include "duplex/transport/socket.h"
#include "duplex/transport/stream_filter.h"

namespace duplex {

class Acceptor;
class EventLoop;
class LoopThreadPool;

struct TcpServerOptions {
  std::size_t threads = 0;  // I/O loops besides the base loop; 0: all on the base loop
  bool reuse_port = false;  // one SO_REUSEPORT listener per I/O loop
  bool v6_only = false;     // for an IPv6 endpoint: do not also take IPv4-mapped peers
  std::string device;       // SO_BINDTODEVICE, "" for any
  int backlog = SOMAXCONN;
  bool no_delay = true;  // TCP_NODELAY on accepted connections
  // A filter (TLS) under every connection, made in the accepting thread; see
  // TcpConnection::set_filter. A handshake not done within handshake_timeout closes it.
  std::function<std::unique_ptr<StreamFilter>()> filter;
  Clock::duration handshake_timeout = std::chrono::seconds(10);
};

class TcpServer {
 public:
  // Base loop thread only, like start() and stop(). Throws duplex::Error.
  TcpServer(EventLoop* loop, const inet::Endpoint& listen, std::string name,
            TcpServerOptions options = {});
  ~TcpServer();  // stop()
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Set before start(). Each runs in the loop of the connection it names.
  void set_connection_callback(ConnectionCallback cb) { connection_cb_ = std::move(cb); }
  void set_message_callback(MessageCallback cb) { message_cb_ = std::move(cb); }
  void set_write_complete_callback(WriteCompleteCallback cb) { write_complete_cb_ = std::move(cb); }

  // Starts the I/O loops and accepting.
  void start();
  // Closes every connection (in its own loop; connection callbacks see them go down),
  // stops accepting, and joins the I/O loops. Idempotent.
  void stop();

  // Any thread.
  const inet::Endpoint& listen_endpoint() const noexcept { return listen_; }
  const std::string& name() const noexcept { return name_; }
  std::size_t connection_count() const;

 private:
  struct Shared;
  void new_connection(EventLoop* io_loop, Socket socket, const inet::Endpoint& peer);

  EventLoop* loop_;
  std::string name_;
  TcpServerOptions options_;
  inet::Endpoint listen_;
  std::vector<Socket> listeners_;
  std::vector<EventLoop*> acceptor_loops_;
  std::unique_ptr<LoopThreadPool> pool_;
  std::vector<std::shared_ptr<Acceptor>> acceptors_;
  std::shared_ptr<Shared> shared_;
  bool started_ = false;
  bool stopped_ = false;
  ConnectionCallback connection_cb_;
  MessageCallback message_cb_;
  WriteCompleteCallback write_complete_cb_;
};

}  // namespace duplex
