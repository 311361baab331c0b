#include "duplex/transport/connector.h"

#include <cerrno>

#include "duplex/reactor/event_loop.h"

namespace duplex {

Connector::Connector(EventLoop* loop, std::vector<inet::Endpoint> peers, Clock::duration timeout)
    : loop_(loop), peers_(std::move(peers)), timeout_(timeout) {}

Connector::~Connector() = default;

void Connector::set_retry(bool on, Clock::duration initial, Clock::duration max) {
  retry_ = on;
  initial_backoff_ = backoff_ = initial;
  max_backoff_ = max;
}

void Connector::start() {
  loop_->run_in_loop([self = shared_from_this()] {
    self->active_ = true;
    self->backoff_ = self->initial_backoff_;
    self->start_round();
  });
}

void Connector::stop() {
  loop_->run_in_loop([self = shared_from_this()] {
    self->active_ = false;
    if (self->retry_timer_) self->loop_->cancel(self->retry_timer_);
    if (self->timeout_timer_) self->loop_->cancel(self->timeout_timer_);
    if (self->channel_) self->drop_channel();
    self->socket_ = Socket();
  });
}

void Connector::start_round() {
  index_ = 0;
  try_current();
}

void Connector::retry_later() {
  loop_->assert_in_loop_thread();
  if (!active_ || !retry_) return;
  retry_timer_ = loop_->run_after(backoff_, [weak = weak_from_this()] {
    if (auto self = weak.lock(); self && self->active_) self->start_round();
  });
  backoff_ = std::min(backoff_ * 2, max_backoff_);
}

void Connector::try_current() {
  if (!active_) return;
  if (index_ >= peers_.size()) {
    if (retry_) {
      retry_later();
    } else {
      active_ = false;
      if (failed_cb_)
        failed_cb_(peers_.empty() ? std::string("no address to connect to") : last_error_);
    }
    return;
  }
  const inet::Endpoint& peer = peers_[index_];
  try {
    socket_ = Socket::tcp(peer);
    if (local_) {
      socket_.set_reuse_addr(true);  // a source port still in TIME_WAIT can be taken again
      socket_.bind(local_for(*local_, peer));
    }
  } catch (const std::exception& e) {
    last_error_ = e.what();
    if (attempt_failed_cb_) attempt_failed_cb_(peer, last_error_);
    ++index_;
    try_current();
    return;
  }
  const int err = socket_.connect(peer);
  if (err != 0 && err != EINPROGRESS && err != EINTR) {
    fail_attempt(err);
    return;
  }
  channel_ = std::make_unique<Channel>(loop_, socket_.fd());
  channel_->on_write([this] { handle_writable(); });
  channel_->on_error([this] { handle_writable(); });
  channel_->tie(shared_from_this());
  channel_->enable_writing();
  timeout_timer_ = loop_->run_after(timeout_, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || !self->channel_) return;
    self->timeout_timer_ = {};
    self->drop_channel();
    self->fail_attempt(ETIMEDOUT);
  });
}

void Connector::handle_writable() {
  if (!channel_) return;
  if (timeout_timer_) loop_->cancel(timeout_timer_);
  timeout_timer_ = {};
  drop_channel();
  int err = socket_.pending_error();
  if (err == 0) {
    // A connect to a free port of our own host can meet itself (TCP simultaneous open).
    try {
      if (socket_.local_endpoint() == socket_.peer_endpoint()) err = ECONNREFUSED;
    } catch (const std::exception&) {
      err = ENOTCONN;
    }
  }
  if (err != 0) {
    fail_attempt(err);
    return;
  }
  active_ = retry_;  // keep the retry going once this connection ends
  backoff_ = initial_backoff_;
  if (connected_cb_) connected_cb_(std::move(socket_), peers_[index_]);
}

void Connector::fail_attempt(int err) {
  last_error_ = socket_error("connect", err, &peers_[index_]);
  socket_ = Socket();
  if (attempt_failed_cb_) attempt_failed_cb_(peers_[index_], last_error_);
  ++index_;
  try_current();
}

void Connector::drop_channel() {
  channel_->disable_all();
  channel_->remove();
  // We may be inside this channel's own callback: destroy it after the round.
  loop_->queue_in_loop([doomed = std::shared_ptr<Channel>(std::move(channel_))] {});
}

}  // namespace duplex
