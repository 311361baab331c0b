// Public. A WebSocket Session driven over a TcpConnection once the handshake is done: the
// glue between the sans-IO session and the reactor. Whoever did the handshake (the HTTP
// server's upgrade seam, or a bare TcpServer as in tests/ws) creates one per connection and
// passes it every input buffer; events come back through one callback.
//
// It adds what a session cannot do without a clock or a socket:
//   - back-pressure: past `high_water` bytes (socket output plus the session's queue) it
//     pauses reading; on_write_complete() resumes it;
//   - a share of the loop: pause_events() holds the events that wait (and stops reading)
//     until resume_events(), so that a user can handle a burst read at once over several
//     loop rounds instead of stalling the loop with it;
//   - the end: once the close handshake is over (or failed) it sends FIN, as RFC 6455 7.1.1
//     asks of servers, and force-closes if the peer has not closed within `close_timeout`;
//     the same timeout bounds the wait for the answer to our own Close.
// It holds the TCP connection weakly, so whatever owns it (the connection's own callbacks,
// behind the HTTP seam) forms no cycle; once the connection is gone, sends return false.
// A TLS transport later gets its own glue of this size; the session stays as it is.
// Loop thread of the connection only, every method.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "duplex/proto/websocket_session.h"
#include "duplex/transport/callbacks.h"

namespace duplex {
class Buffer;
class TcpConnection;
}  // namespace duplex

namespace duplex::websocket {

struct ConnectionOptions {
  SessionOptions session;
  std::size_t high_water = std::size_t{4} << 20;
  std::chrono::milliseconds close_timeout{5000};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Called for each event (text, binary, ping, pong, close, error); may send or close.
  using EventCallback = std::function<void(Connection&, Session::Event&)>;

  Connection(const TcpConnectionPtr& tcp, Role role, ConnectionOptions options,
             EventCallback on_event);

  // Everything the transport read since the last call; empties `input`.
  void on_input(Buffer& input);
  // The transport's write-complete callback: resumes reading if back-pressure paused it.
  void on_write_complete();

  // Stops delivering events after the one being delivered, and stops reading: what was
  // read waits in the session (counted by its queued_bytes()).
  void pause_events();
  // Delivers the events that wait (unless one pauses again), then reads again.
  void resume_events();
  bool events_paused() const noexcept { return events_paused_; }

  bool send_text(std::string_view text);
  bool send_binary(std::span<const std::uint8_t> data);
  bool send_ping(std::span<const std::uint8_t> payload = {});
  bool close(CloseCode code = CloseCode::normal, std::string_view reason = {});

  const Session& session() const noexcept { return session_; }
  // The TCP connection, or null once it is gone.
  TcpConnectionPtr tcp() const noexcept { return tcp_.lock(); }

 private:
  void deliver();
  void flush();
  // Whether reading may go on: events are not paused and the output is under high_water.
  bool may_read(const TcpConnection& tcp) const;
  void arm_close_timer(TcpConnection& tcp);

  std::weak_ptr<TcpConnection> tcp_;
  ConnectionOptions options_;
  Session session_;
  EventCallback on_event_;
  bool events_paused_ = false;
  bool delivering_ = false;  // deliver() is on the stack (an event callback may resume)
  bool close_timer_armed_ = false;
  bool fin_sent_ = false;
};

}  // namespace duplex::websocket
