// Public. One WebSocket connection after the handshake, as a sans-IO state machine:
// bytes in -> events out, and bytes to send. It never touches a socket, so the same session
// runs over a TcpConnection, a TLS stream later, or a test's byte strings.
//
//   session.receive(bytes);                    // everything the transport read
//   while (session.next_event(ev)) { ... }     // text, binary, ping, pong, close, error
//   transport.send(session.output()); session.consume_output(n);
//   if (session.state() == Session::State::closed && session.output().empty()) close it
//
// What it enforces (RFC 6455): the framing rules of FrameDecoder; message assembly across
// continuation frames with control frames between them; a maximum message size (1009);
// UTF-8 of text messages checked as the bytes arrive, across fragments (1007); pong for every
// ping; the close handshake (echo the peer's code; refuse codes that may not be sent, a
// 1-byte payload, or a reason that is not UTF-8). A broken rule queues a Close with the code
// and an error event, and the session reads nothing more.
//
// Back-pressure: queued_bytes() counts what the session holds for others (output not yet
// taken, events not yet read); past a limit the transport pauses reading. A message being
// assembled is left out (assembling_bytes()): it can only finish by reading on, and the size
// limit bounds it. Not thread-safe: a session belongs to its connection's loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>

#include "duplex/proto/websocket_frame.h"
#include "duplex/proto/websocket_utf8.h"

namespace duplex::websocket {

struct SessionOptions {
  std::size_t max_message_size = std::size_t{16} << 20;  // bytes of one assembled message
};

class Session {
 public:
  enum class State : std::uint8_t {
    open,
    closing,  // we sent a Close and wait for the peer's
    closed,   // the close handshake finished or the connection failed: close the transport
  };

  struct Event {
    enum class Kind : std::uint8_t { text, binary, ping, pong, close, error };
    Kind kind = Kind::text;
    std::string data;        // the message, the control payload, or the close/error reason
    std::uint16_t code = 0;  // close: the peer's code (1005 if it sent none); error: ours
  };

  explicit Session(Role role, SessionOptions options = {});

  // Reads `bytes`; ignored once the session is closed.
  void receive(std::span<const std::uint8_t> bytes);
  void receive(std::string_view bytes) {
    receive({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  }
  // Pops the oldest event; false if there is none.
  bool next_event(Event& out);

  // Queue frames to send. False (and nothing queued) once we have sent a Close.
  bool send_text(std::string_view text);
  bool send_binary(std::span<const std::uint8_t> data);
  bool send_frame(Opcode opcode, std::span<const std::uint8_t> payload, bool fin);
  bool send_ping(std::span<const std::uint8_t> payload = {});
  // Starts the close handshake. A reason longer than 123 bytes is cut (on a code point
  // boundary); a code that may not be sent (is_valid_close_code) goes out as 1000.
  bool close(CloseCode code = CloseCode::normal, std::string_view reason = {});
  bool close(std::uint16_t code, std::string_view reason);

  // Bytes to write to the transport, oldest first; consume_output(n) after writing n.
  std::string_view output() const noexcept { return std::string_view(out_).substr(out_sent_); }
  void consume_output(std::size_t n) noexcept;

  State state() const noexcept { return state_; }
  Role role() const noexcept { return role_; }
  // Bytes held for others: unsent output and unread events.
  std::size_t queued_bytes() const noexcept { return out_.size() - out_sent_ + event_bytes_; }
  // Bytes of the data message being assembled (at most the size limit).
  std::size_t assembling_bytes() const noexcept { return message_.size(); }

 private:
  void on_frame_end();
  void on_close_frame();
  void fail(CloseCode code, std::string_view reason);
  void push(Event::Kind kind, std::string data, std::uint16_t code = 0);
  void queue_frame(Opcode opcode, std::span<const std::uint8_t> payload, bool fin);
  void queue_close(std::uint16_t code, std::string_view reason);

  Role role_;
  SessionOptions options_;
  State state_ = State::open;
  FrameDecoder decoder_;
  Opcode message_opcode_ = Opcode::text;
  std::string message_;  // the data message being assembled
  std::string control_;  // the control frame being read (at most 125 bytes)
  Utf8Validator utf8_;
  std::deque<Event> events_;
  std::size_t event_bytes_ = 0;
  std::string out_;
  std::size_t out_sent_ = 0;
};

}  // namespace duplex::websocket
