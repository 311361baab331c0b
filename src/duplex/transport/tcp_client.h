// Public. A TCP client: connects (trying every resolved address, each with a timeout),
// then runs one TcpConnection on its loop; optionally reconnects with back-off.
//
// Construct, use and destroy it in its loop's thread; connection() and the callbacks'
// connection may be used from any thread as TcpConnection allows. Destroying the client
// while its connection is open closes that connection (queued: after the current callback)
// and calls none of the callbacks set here from then on; the connection holds the client
// only weakly, so late callbacks cannot reach a destroyed client.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/inet/endpoint.h"
#include "duplex/transport/callbacks.h"
#include "duplex/transport/stream_filter.h"

namespace duplex {

class Connector;
class EventLoop;

class TcpClient {
 public:
  using FailedCallback = std::function<void(const std::string& why)>;
  using AttemptFailedCallback =
      std::function<void(const inet::Endpoint& peer, const std::string& why)>;

  TcpClient(EventLoop* loop, std::vector<inet::Endpoint> peers, std::string name);
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  // Every address of host ("localhost", "example.org", "::1") for TCP on port, IPv6 and
  // IPv4 as the system orders them. Blocks on DNS; throws duplex::Error naming the host.
  static std::vector<inet::Endpoint> resolve(std::string_view host, std::uint16_t port);

  // Set before connect().
  void set_connect_timeout(Clock::duration timeout) { timeout_ = timeout; }
  void enable_retry(Clock::duration initial = std::chrono::milliseconds(500),
                    Clock::duration max = std::chrono::seconds(30));
  void set_connection_callback(ConnectionCallback cb) { connection_cb_ = std::move(cb); }
  void set_message_callback(MessageCallback cb) { message_cb_ = std::move(cb); }
  void set_write_complete_callback(WriteCompleteCallback cb) { write_complete_cb_ = std::move(cb); }
  // Every address failed (and retry is off); `why` names the last error.
  void set_connect_failed_callback(FailedCallback cb) { failed_cb_ = std::move(cb); }
  // One address failed (refused, unreachable, timed out); the next is tried, or with retry
  // on the round starts again after the back-off.
  void set_attempt_failed_callback(AttemptFailedCallback cb) { attempt_failed_cb_ = std::move(cb); }
  // A filter (TLS) under each connection made, as TcpServerOptions::filter does for a server.
  void set_filter(std::function<std::unique_ptr<StreamFilter>()> make,
                  Clock::duration handshake_timeout = std::chrono::seconds(10)) {
    filter_ = std::move(make);
    handshake_timeout_ = handshake_timeout;
  }

  void connect();
  // Half-closes the connection (FIN after the output drains) and stops retrying.
  void disconnect();
  // Stops connecting; an open connection stays.
  void stop();

  // Any thread. The live connection, or nullptr.
  TcpConnectionPtr connection() const;

 private:
  struct Shared;
  void new_connection(class Socket socket, const inet::Endpoint& peer);

  EventLoop* loop_;
  std::string name_;
  std::vector<inet::Endpoint> peers_;
  Clock::duration timeout_ = std::chrono::seconds(10);
  std::function<std::unique_ptr<StreamFilter>()> filter_;
  Clock::duration handshake_timeout_ = std::chrono::seconds(10);
  bool retry_ = false;
  Clock::duration initial_backoff_ = std::chrono::milliseconds(500);
  Clock::duration max_backoff_ = std::chrono::seconds(30);
  std::shared_ptr<Connector> connector_;
  std::shared_ptr<Shared> shared_;
  ConnectionCallback connection_cb_;
  MessageCallback message_cb_;
  WriteCompleteCallback write_complete_cb_;
  FailedCallback failed_cb_;
  AttemptFailedCallback attempt_failed_cb_;
};

}  // namespace duplex
