#include "duplex/apps/netcat/broker.h"

#include <algorithm>

#include "duplex/reactor/buffer.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::apps {

Broker::Broker(EventLoop* loop, std::size_t high_water) : loop_(loop), high_water_(high_water) {}

Broker::~Broker() {
  for (auto& c : clients_) {
    c->set_connection_callback(nullptr);
    c->connect_destroyed();
  }
}

void Broker::add(Socket socket, const inet::Endpoint& local, const inet::Endpoint& peer) {
  auto conn = std::make_shared<TcpConnection>(loop_, "broker-" + std::to_string(next_id_++),
                                              std::move(socket), local, peer);
  conn->set_message_callback(
      [this](const TcpConnectionPtr& c, Buffer& in, Clock::time_point) { relay(c, in); });
  conn->set_write_complete_callback([this](const TcpConnectionPtr&) { drained(); });
  conn->set_connection_callback([this](const TcpConnectionPtr& c) {
    if (c->connected()) return;
    clients_.erase(std::remove(clients_.begin(), clients_.end(), c), clients_.end());
    if (change_) change_(c, false);
    drained();  // a slow client that left no longer holds the others back
  });
  if (filter_) {
    conn->set_filter(filter_(), handshake_timeout_);
    if (secure_) conn->set_filter_established_callback(secure_);
  }
  clients_.push_back(conn);
  conn->connect_established();
  if (paused_) conn->pause_reading();
  if (change_) change_(conn, true);
}

void Broker::relay(const TcpConnectionPtr& from, Buffer& input) {
  const std::string_view data = input.view();
  bool full = false;
  // A copy: a send that fails closes that client, which leaves clients_ meanwhile.
  const auto clients = clients_;
  for (const auto& c : clients) {
    if (c == from) continue;
    c->send(data);
    full = full || c->output_bytes() > high_water_;
  }
  input.retrieve_all();
  if (full && !paused_) {
    paused_ = true;
    for (const auto& c : clients_) c->pause_reading();
  }
}

void Broker::drained() {
  if (!paused_) return;
  for (const auto& c : clients_)
    if (c->output_bytes() > high_water_ / 2) return;
  paused_ = false;
  for (const auto& c : clients_) c->resume_reading();
}

}  // namespace duplex::apps
