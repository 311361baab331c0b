// Public. One TCP connection, living on one EventLoop all its life.
//
// States: connecting -> connected -> (disconnecting) -> disconnected. "Disconnecting" means
// a close was asked for (shutdown_write, force_close, the peer's FIN) and the output buffer
// may still be draining.
//
// Lifetime: connections are shared (TcpConnectionPtr). The channel is tied to the
// connection, so a callback that drops the last outside reference cannot destroy it under
// the next callback; the final teardown (connect_destroyed) runs as queued work after the
// round's callbacks; servers and clients reach a connection's owner only through a weak
// reference, so destroying a TcpServer or TcpClient while its connections still close on
// other threads is safe (the races muduo users report).
//
// Back-pressure: when the output buffer passes the high-water mark the callback fires once,
// and only while bytes are still queued, so a write-complete callback always follows it;
// a relay then calls pause_reading() on its source and resume_reading() on write-complete.
//
// Filter (TLS): set_filter() before connect_established puts a StreamFilter between the
// socket and the users (see stream_filter.h). The connection callback still fires at once;
// what users send before the handshake is done waits in plaintext and goes out after it.
// The message callback sees only plaintext; send() takes plaintext; shutdown_write() sends
// close_notify and then FIN; the peer's close_notify counts as its FIN. A failed filter
// (bad handshake, plain HTTP to a TLS port) sends its alert and closes, close_reason() its
// error line; a handshake not done within the handshake timeout closes too. Back-pressure
// and high-water mark work on the encrypted output; bytes_sent/received and idle time count
// the wire (records included). Without a filter, the only cost is a null check.
//
// io_uring (the loop's uring() set): one multishot receive replaces read(), and sends go
// out as SQEs, one at a time per connection, batched with the whole loop round's into one
// system call (tcp_connection_uring.cc). What users see is the same; what differs: every
// send() is queued (output_bytes() counts it until the kernel took it), MSG_MORE is not
// passed on, and a write straight to fd() (sendfile) keeps its order with send()'s only
// while output_bytes() is 0, as http serve's file pump checks before each sendfile.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "duplex/inet/endpoint.h"
#include "duplex/reactor/buffer.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/uring.h"
#include "duplex/transport/callbacks.h"
#include "duplex/transport/socket.h"
#include "duplex/transport/stream_filter.h"

namespace duplex {

class EventLoop;

class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  enum class State { kConnecting, kConnected, kDisconnecting, kDisconnected };

  // For TcpServer and TcpClient: takes a connected, non-blocking socket.
  TcpConnection(EventLoop* loop, std::string name, Socket socket, const inet::Endpoint& local,
                const inet::Endpoint& peer);
  ~TcpConnection();
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  // Any thread.
  EventLoop* loop() const noexcept { return loop_; }
  const std::string& name() const noexcept { return name_; }
  const inet::Endpoint& local() const noexcept { return local_; }
  const inet::Endpoint& peer() const noexcept { return peer_; }
  State state() const noexcept { return state_.load(std::memory_order_acquire); }
  bool connected() const noexcept { return state() == State::kConnected; }

  // Any thread. Queues the bytes (copying them when called from another thread) and
  // writes what the kernel takes now. Dropped once the connection is disconnected.
  void send(std::string_view data);
  // Loop thread only. Sends and empties `data` without an extra copy when possible.
  void send(Buffer& data);
  // Loop thread only. Like send(), but tells the kernel that more bytes follow at once
  // (MSG_MORE): a response head sent this way shares its segments with the file body that
  // the caller sends next with sendfile() on fd(), as nginx's tcp_nopush does with a cork.
  // The next write without MSG_MORE (sendfile's last chunk, or any send()) pushes it out.
  void send_more(std::string_view data);
  // Any thread. Sends FIN once the output buffer has drained; reading continues.
  void shutdown_write();
  // Any thread. Closes, dropping unsent output. The close is queued even in the loop
  // thread (as muduo's forceClose): it runs after the current callback, so the caller's
  // callbacks never run under it. connected() is false from the call on.
  void force_close();
  // Any thread; always queued. Closes with RST instead of FIN (SO_LINGER 0), dropping
  // unsent output here and in the kernel: for a peer that reads nothing, whose orphaned
  // socket would otherwise keep its send buffer for minutes. close_reason() is "reset".
  void reset();

  // Loop thread only. Stop and restart reading the socket: the kernel's receive window
  // then closes and the peer slows down (back-pressure).
  void pause_reading();
  void resume_reading();
  bool reading() const noexcept { return ring_ != nullptr ? reading_ : channel_.is_reading(); }

  // Loop thread only, before connect_established (TcpServerOptions::filter does it for a
  // server). A handshake not done within `handshake_timeout` (zero: no limit) closes the
  // connection with close_reason() "TLS handshake not completed within N s".
  void set_filter(std::unique_ptr<StreamFilter> filter,
                  Clock::duration handshake_timeout = std::chrono::seconds(10));
  // True with a filter: the socket carries other bytes than send() takes, so writing to
  // fd() (sendfile, MSG_MORE) is wrong; send the bytes instead.
  bool filtered() const noexcept { return filter_ != nullptr; }
  // The filter (nullptr without one), e.g. to describe() the TLS session.
  const StreamFilter* filter() const noexcept { return filter_.get(); }

  // Loop thread only. Options and callbacks.
  void set_no_delay(bool on) { socket_.set_no_delay(on); }
  void set_connection_callback(ConnectionCallback cb) { connection_cb_ = std::move(cb); }
  void set_message_callback(MessageCallback cb) { message_cb_ = std::move(cb); }
  void set_write_complete_callback(WriteCompleteCallback cb) { write_complete_cb_ = std::move(cb); }
  // With a filter: told once its handshake is done (to describe() it, say).
  void set_filter_established_callback(WriteCompleteCallback cb) {
    filter_established_cb_ = std::move(cb);
  }
  void set_high_water_mark(std::size_t bytes, HighWaterMarkCallback cb) {
    high_water_mark_ = bytes;
    high_water_cb_ = std::move(cb);
  }
  // With shared input on, a read that finds this connection's input buffer empty goes into
  // one buffer shared by the loop thread's connections (as libuv reads into one loop-wide
  // buffer), and only what the message callback leaves unconsumed is copied into the
  // connection's own buffer. Idle connections then hold no input buffer, and busy ones share
  // a cache-warm one. The Buffer given to the message callback is then valid only during
  // the call: keep no pointer to it. Off by default.
  void set_shared_input(bool on) { shared_input_ = on; }
  // Closes the connection after `idle` without bytes in either direction; zero turns it off.
  void set_idle_timeout(Clock::duration idle);
  // Half-close. By default the peer's FIN closes the connection once the output drained.
  // With this callback set, it runs instead and the connection stays open for writing
  // (connected() stays true): answer what the peer asked, then shutdown_write(); the
  // connection closes when our FIN is out. (A request/response peer such as `nc -N`
  // sends its last line and FIN at once and still expects the answer.)
  void set_peer_shutdown_callback(PeerShutdownCallback cb) { peer_shutdown_cb_ = std::move(cb); }
  // For the owner (server, client): told when the connection closes, before it is destroyed.
  void set_close_callback(CloseCallback cb) { close_cb_ = std::move(cb); }
  // Loop thread only. Drops every callback above: an owner that goes away before its
  // connection (a destroyed TcpClient) must not be called back.
  void clear_callbacks();

  // Loop thread only. The socket's fd, for TCP_INFO and the like (do not close it); -1 once
  // the connection is destroyed.
  int fd() const noexcept { return socket_.fd(); }

  // Loop thread only. Statistics and state.
  std::uint64_t bytes_received() const noexcept { return bytes_received_; }
  std::uint64_t bytes_sent() const noexcept { return bytes_sent_; }
  Clock::time_point established_at() const noexcept { return established_at_; }
  Clock::time_point closed_at() const noexcept { return closed_at_; }
  // Bytes accepted by send() that the kernel has not taken yet (with a filter: the records,
  // and plaintext waiting for the handshake).
  std::size_t output_bytes() const noexcept {
    return output_.readable_bytes() + sending_.readable_bytes() + pending_plain_.readable_bytes();
  }
  // Bytes the kernel took that the peer has not acknowledged (SIOCOUTQ; our FIN counts
  // one): 0 once all we sent has reached the peer's socket.
  std::size_t unacknowledged_bytes() const noexcept;
  // Why the connection closed: "" (orderly), "idle timeout", "reset", the errno, e.g.
  // "ECONNRESET (Connection reset by peer)", or the filter's error line.
  const std::string& close_reason() const noexcept { return close_reason_; }

  // For TcpServer and TcpClient, in the loop thread.
  void connect_established();
  void connect_destroyed();

 private:
  void handle_read(Clock::time_point received);
  void handle_write();
  void handle_close();
  void handle_error();
  void send_in_loop(const char* data, std::size_t len, int flags = 0);
  void shutdown_in_loop();
  void finish_shutdown();
  void reset_in_loop();
  void close_with_error(int err);
  void check_idle();
  void handle_peer_eof();
  void write_wire(const char* data, std::size_t len, int flags, bool notify);
  void filter_read(const char* data, std::size_t len, Clock::time_point received);
  void filter_send(const char* data, std::size_t len);
  bool flush_filter();
  void filter_failed();
  void filter_established();
  static constexpr std::size_t kUringKeep = 256 * 1024;
  static Buffer& shared_read_buffer();
  void deliver(Buffer& in, bool shared, Clock::time_point received);
  void peer_fin();
  void output_drained();
  bool writing() const noexcept {
    return ring_ != nullptr ? send_hold_ != nullptr : channel_.is_writing();
  }
  void start_reading();
  void stop_io();

  // io_uring: the receive and the send that are out; each holds the connection (recv_hold_,
  // send_hold_) until its final completion, so their buffers outlive the kernel's use.
  struct RecvOp final : UringOp {
    TcpConnection* conn;
    explicit RecvOp(TcpConnection* c) : UringOp(&done), conn(c) {}
    static void done(UringOp* op, int res, std::uint32_t flags);
  };
  struct SendOp final : UringOp {
    TcpConnection* conn;
    explicit SendOp(TcpConnection* c) : UringOp(&done), conn(c) {}
    static void done(UringOp* op, int res, std::uint32_t flags);
  };
  void uring_arm_recv();
  void uring_recv_done(int res, std::uint32_t flags);
  void uring_take(const char* data, std::size_t len);
  bool within_round_budget(std::size_t n);
  void uring_stop_recv();
  void uring_schedule_held();
  void uring_deliver_held();
  void uring_send_next();
  void uring_send_done(int res);
  void uring_pause();
  void uring_resume();

  EventLoop* loop_;
  const std::string name_;
  std::atomic<State> state_{State::kConnecting};
  Socket socket_;
  Channel channel_;
  const inet::Endpoint local_;
  const inet::Endpoint peer_;
  Buffer input_;
  Buffer output_;
  bool shutdown_requested_ = false;  // shutdown_write() asked: FIN once output drains
  bool peer_closed_ = false;         // read end-of-file: close once output drains
  bool shared_input_ = false;        // set_shared_input()
  std::size_t high_water_mark_ = 64 * 1024 * 1024;
  Clock::duration idle_timeout_{};
  TimerId idle_timer_;
  Clock::time_point last_activity_{};
  std::uint64_t bytes_received_ = 0;
  std::uint64_t bytes_sent_ = 0;
  Clock::time_point established_at_{};
  Clock::time_point closed_at_{};
  std::string close_reason_;
  ConnectionCallback connection_cb_;
  MessageCallback message_cb_;
  WriteCompleteCallback write_complete_cb_;
  WriteCompleteCallback filter_established_cb_;
  HighWaterMarkCallback high_water_cb_;
  CloseCallback close_cb_;
  PeerShutdownCallback peer_shutdown_cb_;
  std::unique_ptr<StreamFilter> filter_;
  Buffer pending_plain_;  // sent before the handshake was done
  Clock::duration handshake_timeout_{};
  TimerId handshake_timer_;
  bool filter_open_ = false;  // filter_->established() seen
  bool close_notify_sent_ = false;

  Uring* const ring_;  // the loop's, or nullptr on epoll
  RecvOp recv_op_{this};
  SendOp send_op_{this};
  std::shared_ptr<TcpConnection> recv_hold_;
  std::shared_ptr<TcpConnection> send_hold_;
  Buffer sending_;        // the bytes of the send that is out
  Buffer held_;           // received while paused: delivered on resume_reading()
  bool reading_ = false;  // io_uring: bytes go to the users (not paused, no FIN yet)
  bool recv_cancelled_ = false;
  bool fin_held_ = false;  // io_uring: the FIN came while paused, behind held_
  bool held_scheduled_ = false;
  std::uint64_t budget_round_ = 0;  // the loop round that budget_used_ counts
  std::size_t budget_used_ = 0;
};

}  // namespace duplex
