#include "duplex/transport/tcp_connection.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex {
namespace {}  // namespace

// The loop thread's read buffer for connections with shared input (one loop per thread).
Buffer& TcpConnection::shared_read_buffer() {
  thread_local Buffer buffer;
  return buffer;
}

TcpConnection::TcpConnection(EventLoop* loop, std::string name, Socket socket,
                             const inet::Endpoint& local, const inet::Endpoint& peer)
    : loop_(loop),
      name_(std::move(name)),
      socket_(std::move(socket)),
      channel_(loop, socket_.fd()),
      local_(local),
      peer_(peer),
      ring_(loop->uring()) {
  channel_.on_read([this] { handle_read(loop_->poll_time()); });
  channel_.on_write([this] { handle_write(); });
  channel_.on_close([this] { handle_close(); });
  channel_.on_error([this] { handle_error(); });
}

TcpConnection::~TcpConnection() = default;

void TcpConnection::connect_established() {
  loop_->assert_in_loop_thread();
  state_.store(State::kConnected, std::memory_order_release);
  established_at_ = last_activity_ = Clock::now();
  channel_.tie(shared_from_this());
  start_reading();
  if (connection_cb_) connection_cb_(shared_from_this());
  if (filter_ && state() != State::kDisconnected) {
    if (handshake_timeout_ > Clock::duration::zero()) {
      handshake_timer_ = loop_->run_after(handshake_timeout_, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self || self->state() == State::kDisconnected || self->filter_open_) return;
        self->handshake_timer_ = {};
        char text[96];
        std::snprintf(text, sizeof text, "TLS handshake not completed within %g s",
                      std::chrono::duration<double>(self->handshake_timeout_).count());
        if (self->close_reason_.empty()) self->close_reason_ = text;
        self->handle_close();
      });
    }
    filter_->start();
    flush_filter();
  }
}

void TcpConnection::set_filter(std::unique_ptr<StreamFilter> filter,
                               Clock::duration handshake_timeout) {
  filter_ = std::move(filter);
  handshake_timeout_ = handshake_timeout;
}

void TcpConnection::connect_destroyed() {
  loop_->assert_in_loop_thread();
  if (state() != State::kDisconnected) {  // the owner tears down a live connection
    state_.store(State::kDisconnected, std::memory_order_release);
    closed_at_ = Clock::now();
    stop_io();
    if (idle_timer_) loop_->cancel(idle_timer_);
    if (handshake_timer_) loop_->cancel(handshake_timer_);
    if (connection_cb_) connection_cb_(shared_from_this());
  }
  stop_io();
  // io_uring: what is still out ends by itself (the ring holds the file), but what was only
  // prepared names the fd by number: the kernel must see it before the number is freed.
  if (ring_ != nullptr) ring_->submit();
  channel_.remove();
  // Close the fd now, not when the last reference goes: a user who keeps the pointer
  // must not keep the kernel socket (and the peer's connection) alive with it.
  socket_ = Socket();
  // Callbacks often capture the connection; dropping them breaks such cycles.
  clear_callbacks();
}

void TcpConnection::clear_callbacks() {
  loop_->assert_in_loop_thread();
  connection_cb_ = nullptr;
  message_cb_ = nullptr;
  write_complete_cb_ = nullptr;
  high_water_cb_ = nullptr;
  close_cb_ = nullptr;
  peer_shutdown_cb_ = nullptr;
}

void TcpConnection::handle_read(Clock::time_point received) {
  if (state() == State::kDisconnected) return;
  // One read per wake-up, however much is waiting: with level-triggered epoll the rest
  // rings again next round, so one fast sender cannot starve the loop's other connections.
  // One readv takes up to 64 KiB beyond the buffer's free space.
  int err = 0;
  // With a filter the ciphertext goes to the shared buffer and on into the filter at once.
  const bool shared = filter_ || (shared_input_ && input_.empty());
  Buffer& in = shared ? shared_read_buffer() : input_;
  if (shared) in.ensure_writable(Buffer::kExtraReadSize);  // then readv needs no stack buffer
  const ssize_t n = in.read_fd(socket_.fd(), &err);
  if (n > 0) {
    bytes_received_ += static_cast<std::uint64_t>(n);
    last_activity_ = received;
    deliver(in, shared, received);
  } else if (n == 0) {
    peer_fin();
  } else if (err != EAGAIN && err != EINTR) {
    close_with_error(err);
  }
}

// Bytes just received, in `in` (the shared buffer, or input_ itself when !shared), go to
// the filter or the message callback.
void TcpConnection::deliver(Buffer& in, bool shared, Clock::time_point received) {
  if (filter_) {
    filter_read(in.peek(), in.readable_bytes(), received);
    in.retrieve_all();
    return;
  }
  if (message_cb_) {
    message_cb_(shared_from_this(), in, received);
  } else {
    in.retrieve_all();
  }
  if (shared) {
    // What the callback left (a partial message) becomes this connection's own.
    if (!in.empty()) input_.append(in.peek(), in.readable_bytes());
    in.retrieve_all();
  }
  input_.release_if_empty();
}

void TcpConnection::peer_fin() {
  if (filter_ && !filter_open_ && close_reason_.empty())
    close_reason_ = "the peer closed during the TLS handshake";
  handle_peer_eof();
}

void TcpConnection::start_reading() {
  if (ring_ != nullptr) {
    reading_ = true;
    uring_arm_recv();
  } else {
    channel_.enable_reading();
  }
}

// No more reading or writing: the channel leaves the poller; on io_uring what is out is
// cancelled (its final completion lets the connection go).
void TcpConnection::stop_io() {
  channel_.disable_all();
  if (ring_ == nullptr) return;
  reading_ = false;
  uring_stop_recv();
  if (send_hold_) ring_->cancel(&send_op_);
}

// The peer sent FIN (or TLS close_notify). Finish sending what is queued (a half-closed
// peer still reads), then close.
void TcpConnection::handle_peer_eof() {
  peer_closed_ = true;
  if (ring_ != nullptr) {
    reading_ = false;
  } else {
    channel_.disable_reading();
  }
  if (peer_shutdown_cb_ && !shutdown_requested_) {
    // Half-closed: the owner answers and then calls shutdown_write(). (Had it already,
    // both directions are done and the connection closes as below.)
    peer_shutdown_cb_(shared_from_this(), input_);
    return;
  }
  if (!writing()) {
    handle_close();
  } else {
    state_.store(State::kDisconnecting, std::memory_order_release);
  }
}

void TcpConnection::filter_read(const char* data, std::size_t len, Clock::time_point received) {
  const StreamFilter::Result r = filter_->input(data, len, input_);
  if (r == StreamFilter::Result::kFailed) {
    filter_failed();
    return;
  }
  // Handshake answers and session tickets wait in wire() for what the users send in answer
  // to this input (filter_send() writes wire() whole), so a server's tickets and its first
  // response leave in one segment; flushed below if nothing was sent.
  if (!filter_open_ && filter_->established()) {
    filter_established();
    if (state() == State::kDisconnected) return;
  }
  if (!input_.empty()) {
    if (message_cb_) {
      message_cb_(shared_from_this(), input_, received);
    } else {
      input_.retrieve_all();
    }
  }
  if (!flush_filter()) return;
  input_.release_if_empty();
  if (r == StreamFilter::Result::kClosed && !peer_closed_ && state() != State::kDisconnected)
    handle_peer_eof();
}

void TcpConnection::filter_established() {
  filter_open_ = true;
  if (handshake_timer_) loop_->cancel(handshake_timer_);
  handshake_timer_ = {};
  if (filter_established_cb_) filter_established_cb_(shared_from_this());
  if (state() == State::kDisconnected) return;
  if (pending_plain_.empty()) return;
  filter_send(pending_plain_.peek(), pending_plain_.readable_bytes());
  pending_plain_.retrieve_all();
  pending_plain_.release_if_empty();
  // A shutdown_write() that waited for the handshake to send these bytes first.
  if (shutdown_requested_ && state() != State::kDisconnected && !writing()) finish_shutdown();
}

void TcpConnection::filter_send(const char* data, std::size_t len) {
  if (!filter_open_) {
    pending_plain_.append(data, len);
    return;
  }
  if (filter_->output(data, len) == StreamFilter::Result::kFailed) {
    filter_failed();
    return;
  }
  Buffer& wire = filter_->wire();
  if (wire.empty()) return;
  write_wire(wire.peek(), wire.readable_bytes(), 0, true);
  wire.retrieve_all();
}

// Sends what the filter produced (not user data: no write-complete callback for it);
// false once the connection is closed.
bool TcpConnection::flush_filter() {
  Buffer& wire = filter_->wire();
  if (!wire.empty()) {
    write_wire(wire.peek(), wire.readable_bytes(), 0, false);
    wire.retrieve_all();
  }
  return state() != State::kDisconnected;
}

void TcpConnection::filter_failed() {
  if (close_reason_.empty()) close_reason_ = filter_->error();
  flush_filter();  // the alert, if the socket takes it now
  handle_close();
}

void TcpConnection::handle_write() {
  if (!channel_.is_writing()) return;
  const ssize_t n =
      ::send(socket_.fd(), output_.peek(), output_.readable_bytes(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) close_with_error(errno);
    return;
  }
  output_.retrieve(static_cast<std::size_t>(n));
  bytes_sent_ += static_cast<std::uint64_t>(n);
  last_activity_ = loop_->poll_time();
  if (!output_.empty()) return;
  channel_.disable_writing();
  output_drained();
}

// Everything queued went to the kernel: tell the users, then finish a close that waited.
void TcpConnection::output_drained() {
  // On io_uring every byte sent passes through output_ and sending_: they keep up to
  // 256 KiB between bursts, or a busy connection would allocate in step with its traffic.
  output_.release_if_empty(ring_ != nullptr ? kUringKeep : 64 * 1024);
  if (write_complete_cb_) write_complete_cb_(shared_from_this());
  if (state() == State::kDisconnected) return;
  if (peer_closed_ && !peer_shutdown_cb_) {
    handle_close();
  } else if (shutdown_requested_) {
    finish_shutdown();
  }
}

void TcpConnection::handle_close() {
  if (state() == State::kDisconnected) return;
  state_.store(State::kDisconnected, std::memory_order_release);
  closed_at_ = Clock::now();
  stop_io();
  if (idle_timer_) loop_->cancel(idle_timer_);
  if (handshake_timer_) loop_->cancel(handshake_timer_);
  handshake_timer_ = {};
  TcpConnectionPtr guard(shared_from_this());
  if (connection_cb_) connection_cb_(guard);
  if (close_cb_) {
    close_cb_(guard);  // the owner forgets it and queues connect_destroyed
  } else {
    loop_->queue_in_loop([guard] { guard->connect_destroyed(); });
  }
}

void TcpConnection::handle_error() {
  const int err = socket_.pending_error();
  if (err != 0) close_with_error(err);
}

void TcpConnection::close_with_error(int err) {
  if (close_reason_.empty()) close_reason_ = errno_text(err);
  handle_close();
}

void TcpConnection::send(std::string_view data) {
  if (state() == State::kDisconnected) return;
  if (loop_->is_in_loop_thread()) {
    send_in_loop(data.data(), data.size());
  } else {
    loop_->queue_in_loop([self = shared_from_this(), copy = std::string(data)] {
      self->send_in_loop(copy.data(), copy.size());
    });
  }
}

void TcpConnection::send(Buffer& data) {
  loop_->assert_in_loop_thread();
  // io_uring queues every send: with nothing queued or out, the bytes change hands (the
  // buffers swap storage) instead of being copied into output_ (nothing was queued, so no
  // high-water mark was passed).
  if (ring_ != nullptr && !filter_ && !send_hold_ && output_.empty() && !data.empty() &&
      state() != State::kDisconnected && !shutdown_requested_) {
    std::swap(output_, data);
    data.retrieve_all();
    uring_send_next();
    return;
  }
  send_in_loop(data.peek(), data.readable_bytes());
  data.retrieve_all();
}

void TcpConnection::send_more(std::string_view data) {
  loop_->assert_in_loop_thread();
  send_in_loop(data.data(), data.size(), MSG_MORE);
}

void TcpConnection::send_in_loop(const char* data, std::size_t len, int flags) {
  loop_->assert_in_loop_thread();
  if (state() == State::kDisconnected || shutdown_requested_ || len == 0) return;
  if (filter_) {
    filter_send(data, len);  // MSG_MORE means nothing to records: dropped
    return;
  }
  write_wire(data, len, flags, true);
}

// Bytes for the socket: straight to the kernel when nothing is queued, the rest queued.
// `notify`: queue the write-complete callback when the kernel took them all at once.
void TcpConnection::write_wire(const char* data, std::size_t len, int flags, bool notify) {
  if (state() == State::kDisconnected) return;
  std::size_t written = 0;
  // Nothing queued: write straight from the caller's bytes, no copy, no buffer. (On
  // io_uring every write is queued: the round's sends leave in one system call.)
  if (ring_ == nullptr && !channel_.is_writing() && output_.empty()) {
    const ssize_t n = ::send(socket_.fd(), data, len, MSG_NOSIGNAL | MSG_DONTWAIT | flags);
    if (n >= 0) {
      written = static_cast<std::size_t>(n);
      bytes_sent_ += written;
      if (written > 0) last_activity_ = loop_->poll_time();  // a push-only peer is not idle
      if (written == len && notify && write_complete_cb_) {
        // Queued, not called: a callback that sends again would otherwise recurse here.
        loop_->queue_in_loop([self = shared_from_this()] {
          if (self->write_complete_cb_) self->write_complete_cb_(self);
        });
      }
    } else if (errno != EAGAIN && errno != EINTR) {
      close_with_error(errno);
      return;
    }
  }
  const std::size_t remaining = len - written;
  if (remaining == 0) return;
  const std::size_t before = output_.readable_bytes() + sending_.readable_bytes();
  if (before + remaining >= high_water_mark_ && before < high_water_mark_ && high_water_cb_) {
    loop_->queue_in_loop([self = shared_from_this(), size = before + remaining] {
      // Only while bytes are still owed, so that a write-complete callback follows: a write
      // later in this round may have drained the buffer, and a reader paused now would
      // then never be resumed.
      if (self->high_water_cb_ && self->writing()) self->high_water_cb_(self, size);
    });
  }
  output_.append(data + written, remaining);
  if (ring_ != nullptr) {
    if (!send_hold_) uring_send_next();
  } else if (!channel_.is_writing()) {
    channel_.enable_writing();
  }
}

void TcpConnection::shutdown_write() {
  State expected = State::kConnected;
  if (!state_.compare_exchange_strong(expected, State::kDisconnecting)) return;
  loop_->run_in_loop([self = shared_from_this()] { self->shutdown_in_loop(); });
}

void TcpConnection::shutdown_in_loop() {
  if (state() == State::kDisconnected) return;
  shutdown_requested_ = true;
  if (filter_ && !filter_open_ && !pending_plain_.empty()) return;  // after the handshake
  if (!writing()) finish_shutdown();
}

void TcpConnection::finish_shutdown() {
  if (filter_ && !close_notify_sent_) {
    // close_notify first; the FIN follows once it has gone out (handle_write comes back).
    close_notify_sent_ = true;
    if (filter_open_) {
      filter_->close();
      if (!flush_filter() || writing()) return;
    }
  }
  socket_.shutdown_write();
  // Both directions are done: a half-closed peer has had our answer and our FIN.
  if (peer_closed_) handle_close();
}

void TcpConnection::force_close() {
  if (state() == State::kDisconnected) return;
  State expected = State::kConnected;
  state_.compare_exchange_strong(expected, State::kDisconnecting);
  loop_->queue_in_loop([self = shared_from_this()] { self->handle_close(); });
}

void TcpConnection::reset() {
  if (state() == State::kDisconnected) return;
  // Queued, as muduo's forceClose: a caller inside one of our callbacks is not closed under.
  loop_->queue_in_loop([self = shared_from_this()] { self->reset_in_loop(); });
}

void TcpConnection::reset_in_loop() {
  if (state() == State::kDisconnected) return;
  try {
    socket_.set_linger_zero();
  } catch (const Error&) {
    // Only a broken descriptor refuses SO_LINGER; it is then closed as usual.
  }
  if (close_reason_.empty()) close_reason_ = "reset";
  handle_close();
}

std::size_t TcpConnection::unacknowledged_bytes() const noexcept {
  int queued = 0;
  if (::ioctl(socket_.fd(), SIOCOUTQ, &queued) < 0 || queued < 0) return 0;
  return static_cast<std::size_t>(queued);
}

void TcpConnection::pause_reading() {
  loop_->assert_in_loop_thread();
  if (ring_ != nullptr) {
    uring_pause();
  } else if (channel_.is_reading()) {
    channel_.disable_reading();
  }
}

void TcpConnection::resume_reading() {
  loop_->assert_in_loop_thread();
  if (state() == State::kDisconnected || peer_closed_) return;
  if (ring_ != nullptr) {
    uring_resume();
  } else if (!channel_.is_reading()) {
    channel_.enable_reading();
  }
}

void TcpConnection::set_idle_timeout(Clock::duration idle) {
  loop_->assert_in_loop_thread();
  if (idle_timer_) loop_->cancel(idle_timer_);
  idle_timer_ = {};
  idle_timeout_ = idle;
  if (idle <= Clock::duration::zero()) return;
  last_activity_ = Clock::now();
  idle_timer_ = loop_->run_after(idle, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->check_idle();
  });
}

void TcpConnection::check_idle() {
  if (state() == State::kDisconnected) return;
  const Clock::duration quiet = Clock::now() - last_activity_;
  if (quiet >= idle_timeout_) {
    close_reason_ = "idle timeout";
    handle_close();
    return;
  }
  // Re-arm for the rest of the period rather than resetting a timer on every read.
  idle_timer_ = loop_->run_after(idle_timeout_ - quiet, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->check_idle();
  });
}

}  // namespace duplex
