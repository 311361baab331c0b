#include "duplex/transport/tcp_client.h"

#include <netdb.h>

#include <algorithm>

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/connector.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex {

// What the connection's close callback reaches after the client may be gone.
struct TcpClient::Shared {
  mutable std::mutex mutex;
  TcpConnectionPtr connection;  // guarded by mutex
  std::shared_ptr<Connector> connector;
  bool retry = false;
};

TcpClient::TcpClient(EventLoop* loop, std::vector<inet::Endpoint> peers, std::string name)
    : loop_(loop),
      name_(std::move(name)),
      peers_(std::move(peers)),
      shared_(std::make_shared<Shared>()) {}

TcpClient::~TcpClient() {
  loop_->assert_in_loop_thread();
  if (connector_) connector_->stop();
  TcpConnectionPtr conn;
  {
    std::lock_guard lock(shared_->mutex);
    conn = std::move(shared_->connection);
  }
  if (conn) {
    // No owner any more: nothing may call back into it (the user's object that holds this
    // client is being destroyed too), and the connection tears itself down when it closes.
    conn->clear_callbacks();
    conn->force_close();
  }
}

std::vector<inet::Endpoint> TcpClient::resolve(std::string_view host, std::uint16_t port) {
  std::string name(host);
  if (name.size() > 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    throw Error("cannot resolve '" + name + "': " + ::gai_strerror(rc) +
                "; check the name, or give an address");
  }
  std::vector<inet::Endpoint> out;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (auto e = inet::Endpoint::from_sockaddr(ai->ai_addr, ai->ai_addrlen)) {
      inet::Endpoint with_port(e->address(), port);
      if (std::find(out.begin(), out.end(), with_port) == out.end()) out.push_back(with_port);
    }
  }
  ::freeaddrinfo(list);
  if (out.empty()) throw Error("'" + name + "' has no IPv4 or IPv6 address");
  return out;
}

void TcpClient::enable_retry(Clock::duration initial, Clock::duration max) {
  retry_ = true;
  initial_backoff_ = initial;
  max_backoff_ = max;
}

void TcpClient::connect() {
  loop_->assert_in_loop_thread();
  if (connector_) connector_->stop();
  connector_ = std::make_shared<Connector>(loop_, peers_, timeout_);
  connector_->set_retry(retry_, initial_backoff_, max_backoff_);
  connector_->on_connected(
      [this](Socket s, const inet::Endpoint& peer) { new_connection(std::move(s), peer); });
  connector_->on_failed([this](const std::string& why) {
    if (failed_cb_) failed_cb_(why);
  });
  connector_->on_attempt_failed([this](const inet::Endpoint& peer, const std::string& why) {
    if (attempt_failed_cb_) attempt_failed_cb_(peer, why);
  });
  shared_->connector = connector_;
  shared_->retry = retry_;
  connector_->start();
}

void TcpClient::new_connection(Socket socket, const inet::Endpoint& peer) {
  inet::Endpoint local = socket.local_endpoint();
  auto conn = std::make_shared<TcpConnection>(loop_, name_, std::move(socket), local, peer);
  if (filter_) conn->set_filter(filter_(), handshake_timeout_);
  conn->set_connection_callback(connection_cb_);
  conn->set_message_callback(message_cb_);
  conn->set_write_complete_callback(write_complete_cb_);
  conn->set_close_callback([weak = std::weak_ptr<Shared>(shared_)](const TcpConnectionPtr& c) {
    if (auto shared = weak.lock()) {
      {
        std::lock_guard lock(shared->mutex);
        if (shared->connection == c) shared->connection.reset();
      }
      if (shared->retry && shared->connector) shared->connector->retry_later();
    }
    c->loop()->queue_in_loop([c] { c->connect_destroyed(); });
  });
  {
    std::lock_guard lock(shared_->mutex);
    shared_->connection = conn;
  }
  conn->connect_established();
}

void TcpClient::disconnect() {
  loop_->assert_in_loop_thread();
  shared_->retry = false;
  if (auto c = connection()) c->shutdown_write();
}

void TcpClient::stop() {
  loop_->assert_in_loop_thread();
  shared_->retry = false;
  if (connector_) connector_->stop();
}

TcpConnectionPtr TcpClient::connection() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->connection;
}

}  // namespace duplex
