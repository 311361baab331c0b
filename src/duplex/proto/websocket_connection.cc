#include "duplex/proto/websocket_connection.h"

#include <utility>

#include "duplex/reactor/buffer.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::websocket {

Connection::Connection(const TcpConnectionPtr& tcp, Role role, ConnectionOptions options,
                       EventCallback on_event)
    : tcp_(tcp),
      options_(options),
      session_(role, options.session),
      on_event_(std::move(on_event)) {}

void Connection::on_input(Buffer& input) {
  session_.receive(input.view());
  input.retrieve_all();
  deliver();
  flush();
}

void Connection::deliver() {
  if (delivering_) return;  // a callback resumed: the loop below goes on
  delivering_ = true;
  Session::Event ev;
  while (!events_paused_ && session_.next_event(ev)) {
    if (on_event_) on_event_(*this, ev);
  }
  delivering_ = false;
}

void Connection::on_write_complete() {
  const auto tcp = tcp_.lock();
  if (tcp && !tcp->reading() && may_read(*tcp)) tcp->resume_reading();
}

void Connection::pause_events() {
  events_paused_ = true;
  const auto tcp = tcp_.lock();
  if (tcp && tcp->reading()) tcp->pause_reading();
}

void Connection::resume_events() {
  if (!events_paused_) return;
  events_paused_ = false;
  deliver();
  flush();
  const auto tcp = tcp_.lock();
  if (tcp && !tcp->reading() && may_read(*tcp)) tcp->resume_reading();
}

bool Connection::may_read(const TcpConnection& tcp) const {
  return !events_paused_ && session_.state() != Session::State::closed &&
         tcp.output_bytes() + session_.queued_bytes() <= options_.high_water;
}

bool Connection::send_text(std::string_view text) {
  const bool queued = !tcp_.expired() && session_.send_text(text);
  flush();
  return queued;
}

bool Connection::send_binary(std::span<const std::uint8_t> data) {
  const bool queued = !tcp_.expired() && session_.send_binary(data);
  flush();
  return queued;
}

bool Connection::send_ping(std::span<const std::uint8_t> payload) {
  const bool queued = !tcp_.expired() && session_.send_ping(payload);
  flush();
  return queued;
}

bool Connection::close(CloseCode code, std::string_view reason) {
  const bool queued = !tcp_.expired() && session_.close(code, reason);
  flush();
  return queued;
}

void Connection::flush() {
  const auto tcp = tcp_.lock();
  if (!tcp) return;
  if (!session_.output().empty()) {
    tcp->send(session_.output());
    session_.consume_output(session_.output().size());
  }
  switch (session_.state()) {
    case Session::State::open:
      if (tcp->output_bytes() + session_.queued_bytes() > options_.high_water && tcp->reading()) {
        tcp->pause_reading();
      }
      break;
    case Session::State::closing:
      arm_close_timer(*tcp);
      break;
    case Session::State::closed:
      if (!fin_sent_) {
        fin_sent_ = true;
        tcp->shutdown_write();
      }
      arm_close_timer(*tcp);
      break;
  }
}

// A peer that never answers our Close, or never closes TCP after the handshake, must not
// hold the connection forever.
void Connection::arm_close_timer(TcpConnection& tcp) {
  if (close_timer_armed_) return;
  close_timer_armed_ = true;
  tcp.loop()->run_after(options_.close_timeout, [weak = tcp_] {
    if (auto c = weak.lock()) c->force_close();
  });
}

}  // namespace duplex::websocket
