// Public. Bridges a local pair of file descriptors (stdin/stdout, say) to a connected
// stream socket in both directions at once, on one EventLoop: the core of `duplex connect`
// and `duplex listen`.
//
// End-of-file is explicit, because it is what users of nc and ncat trip over:
//   - EOF on the local input: once the bytes already read have gone out, the relay sends
//     FIN (shutdown(SHUT_WR)) unless shutdown_on_eof is off. The socket still reads.
//   - FIN from the peer: once the bytes already received are written, the local output is
//     closed (its reader sees EOF). The local input is still read and sent.
//   - The session ends when both directions are finished, or earlier: quit_after after the
//     local EOF, end_on_peer_eof (for a terminal: nobody types into a closed peer),
//     idle_timeout, an error (reset), or stop().
//
// Back-pressure: each direction holds at most high_water bytes; reading its source pauses
// while it is full, so a slow stdout slows the peer down through TCP's window and a slow
// peer pauses stdin. Nothing buffers without bound.
//
// Descriptors that epoll refuses (regular files, /dev/null) are "always ready", as poll(2)
// reports them: they are read or written with plain calls from the loop (a regular file
// never blocks for long), re-queued while there is room, so they need no thread.
//
// TLS (connect --tls, listen --tls): with a tls::Session in the options, the relay's bytes
// are the session's plaintext. Stdin waits in its buffer until the handshake is done (or
// fails, or times out: handshake_timeout); the socket is read while the decrypted bytes for
// stdout are under high_water, and records not yet decrypted stay as ciphertext, so the
// bounds above hold. Stdin's EOF sends close_notify, then FIN; the peer's close_notify is its
// EOF. A FIN without close_notify also ends the peer's direction, with an event saying so.
//
// Loop thread only. The relay does not own the local descriptors; it owns the socket.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "duplex/proto/tls_session.h"
#include "duplex/reactor/buffer.h"
#include "duplex/reactor/timer_queue.h"
#include "duplex/transport/socket.h"

namespace duplex {

class Channel;
class EventLoop;

namespace apps {

enum class Direction { kSent, kReceived };

struct RelayOptions {
  bool shutdown_on_eof = true;
  // Negative: wait for the peer's FIN however long it takes.
  Clock::duration quit_after = Clock::duration(-1);
  bool end_on_peer_eof = false;
  // Close the local output at the peer's FIN, so its reader sees EOF. Off when the output
  // serves the next session too (listen -k).
  bool close_output_on_peer_eof = true;
  Clock::duration idle_timeout{};  // zero: none
  std::size_t high_water = 1024 * 1024;
  // Sees every chunk as it is read, with its offset in the stream (for --hex).
  std::function<void(Direction, std::uint64_t offset, std::string_view)> observer;
  // Told about half-closes: "stdin EOF, sent FIN", "peer sent FIN".
  std::function<void(std::string_view event)> on_event;
  // TLS over the socket, when set (a client's session knows the server's name).
  std::shared_ptr<tls::Session> tls;
  Clock::duration handshake_timeout = std::chrono::seconds(10);
  // Told once the handshake is done (protocol, cipher, the peer's certificate).
  std::function<void(const tls::Session&)> on_tls_established;
};

struct RelayResult {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  bool failed = false;  // reset, idle timeout or an I/O error
  std::string reason;   // "" for an orderly end, else what ended it
};

class StreamRelay {
 public:
  using DoneCallback = std::function<void(const RelayResult&)>;

  StreamRelay(EventLoop* loop, int local_in, int local_out, Socket socket, RelayOptions options);
  ~StreamRelay();  // restores the local descriptors' flags
  StreamRelay(const StreamRelay&) = delete;
  StreamRelay& operator=(const StreamRelay&) = delete;

  // `done` runs once, in the loop, when the session ends; the relay may be destroyed then
  // from queued work (not inside the callback).
  void start(DoneCallback done);
  // Ends the session now (a signal, say).
  void stop(std::string reason);

 private:
  struct Port;
  void update();
  void read_local();
  void write_socket();
  void read_socket();
  void write_local();
  void local_eof();
  void peer_eof();
  void fail(std::string reason);
  void finish();
  void check_done();
  void touch();
  void check_idle();
  void schedule_always_ready();
  void seal();
  void unseal();
  void send_alert();

  EventLoop* loop_;
  std::unique_ptr<Port> in_, out_, sock_;
  Socket socket_;
  RelayOptions options_;
  Buffer up_;    // local input -> socket
  Buffer down_;  // socket -> local output
  Buffer wire_;  // TLS: ciphertext just read, on its way into the session
  std::shared_ptr<tls::Session> tls_;
  bool tls_reported_ = false;
  bool in_eof_ = false;
  bool fin_sent_ = false;
  bool peer_eof_ = false;
  bool fin_seen_ = false;  // TLS: the peer's FIN, perhaps behind records not yet decrypted
  bool out_closed_ = false;
  bool finished_ = false;
  bool queued_ = false;
  RelayResult result_;
  DoneCallback done_;
  TimerId quit_timer_, idle_timer_, handshake_timer_;
  Clock::time_point last_activity_{};
  std::shared_ptr<bool> alive_;
};

}  // namespace apps
}  // namespace duplex
