#include "duplex/apps/netcat/stream_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "duplex/reactor/channel.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps {
namespace {

// One read or write moves at most this much: large enough that a bulk transfer costs few
// system calls, small enough that one direction cannot hold the loop for long.
constexpr std::size_t kChunk = 256 * 1024;
// How long the end of a session may wait for a blocked local output to take the rest.
constexpr auto kFlushLimit = std::chrono::seconds(2);

bool ends_quietly(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

}  // namespace

struct StreamRelay::Port {
  Port(EventLoop* loop, int descriptor, bool set_nonblocking) : fd(descriptor) {
    is_pollable = duplex::is_pollable(fd);
    if (is_pollable) {
      channel = std::make_unique<Channel>(loop, fd);
      // O_NONBLOCK lives in the open file description, which a terminal shares with the
      // shell: the destructor puts the old flags back.
      saved_flags = ::fcntl(fd, F_GETFL);
      if (set_nonblocking && saved_flags >= 0 && !(saved_flags & O_NONBLOCK))
        ::fcntl(fd, F_SETFL, saved_flags | O_NONBLOCK);
    }
  }
  ~Port() {
    if (channel) channel->remove();
    if (saved_flags >= 0 && !(saved_flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, saved_flags);
  }
  void want(bool read, bool write) {
    if (!channel) return;
    const std::uint32_t interest = (read ? Channel::kReadable : Channel::kNone) |
                                   (write ? Channel::kWritable : Channel::kNone);
    if (interest == channel->interest()) return;
    if (read)
      channel->enable_reading();
    else
      channel->disable_reading();
    if (write)
      channel->enable_writing();
    else
      channel->disable_writing();
  }

  int fd;
  bool is_pollable = false;
  int saved_flags = -1;
  std::unique_ptr<Channel> channel;
};

StreamRelay::StreamRelay(EventLoop* loop, int local_in, int local_out, Socket socket,
                         RelayOptions options)
    : loop_(loop),
      socket_(std::move(socket)),
      options_(std::move(options)),
      tls_(options_.tls),
      alive_(std::make_shared<bool>(true)) {
  in_ = std::make_unique<Port>(loop, local_in, true);
  out_ = std::make_unique<Port>(loop, local_out, true);
  sock_ = std::make_unique<Port>(loop, socket_.fd(), false);
  if (in_->channel) {
    in_->channel->on_read([this] { read_local(); });
    in_->channel->on_close([this] { read_local(); });
  }
  if (out_->channel) {
    out_->channel->on_write([this] { write_local(); });
    out_->channel->on_error([this] { write_local(); });
  }
  sock_->channel->on_read([this] { read_socket(); });
  sock_->channel->on_close([this] { read_socket(); });
  sock_->channel->on_write([this] { write_socket(); });
  sock_->channel->on_error([this] {
    const int err = socket_.pending_error();
    if (err != 0) fail(errno_text(err));
  });
}

StreamRelay::~StreamRelay() { *alive_ = false; }

void StreamRelay::start(DoneCallback done) {
  loop_->assert_in_loop_thread();
  done_ = std::move(done);
  last_activity_ = Clock::now();
  if (options_.idle_timeout > Clock::duration::zero()) {
    idle_timer_ = loop_->run_after(options_.idle_timeout, [this, alive = alive_] {
      if (*alive) check_idle();
    });
  }
  if (tls_) {
    handshake_timer_ = loop_->run_after(options_.handshake_timeout, [this, alive = alive_] {
      if (*alive && !finished_ && !tls_->open()) fail("TLS handshake timed out");
    });
    tls_->start();
    write_socket();  // a client's ClientHello
    return;
  }
  update();
}

void StreamRelay::stop(std::string reason) {
  if (finished_) return;
  result_.reason = std::move(reason);
  finish();
}

// Recomputes every descriptor's interest from the state: the only place that decides
// what is read and written, so back-pressure and EOF cannot disagree.
void StreamRelay::update() {
  if (finished_) return;
  const std::size_t sealed = tls_ ? tls_->output().readable_bytes() : 0;
  const bool read_in = !in_eof_ && up_.readable_bytes() + sealed < options_.high_water;
  const bool write_sock = tls_ ? sealed > 0 : !up_.empty();
  // During the handshake the socket is read whatever stdout holds: nothing is decrypted yet.
  const bool read_sock = !peer_eof_ && !fin_seen_ &&
                         (down_.readable_bytes() < options_.high_water || (tls_ && !tls_->open()));
  const bool write_out = !down_.empty() && !out_closed_;
  in_->want(read_in, false);
  if (!out_closed_) out_->want(false, write_out);
  sock_->want(read_sock, write_sock);
  if ((read_in && !in_->is_pollable) || (write_out && !out_->is_pollable)) schedule_always_ready();
}

void StreamRelay::schedule_always_ready() {
  if (queued_) return;
  queued_ = true;
  loop_->queue_in_loop([this, alive = alive_] {
    if (!*alive) return;
    queued_ = false;
    if (finished_) return;
    if (!in_->is_pollable && !in_eof_ && up_.readable_bytes() < options_.high_water) read_local();
    if (!finished_ && !out_->is_pollable && !out_closed_ && !down_.empty()) write_local();
  });
}

void StreamRelay::read_local() {
  if (finished_ || in_eof_) return;
  up_.ensure_writable(kChunk);
  const ssize_t n = ::read(in_->fd, up_.begin_write(), kChunk);
  if (n > 0) {
    const std::size_t len = static_cast<std::size_t>(n);
    if (options_.observer)
      options_.observer(Direction::kSent, result_.bytes_sent + up_.readable_bytes(),
                        {up_.begin_write(), len});
    up_.has_written(len);
    write_socket();  // usually the kernel takes it at once: no wait for the next round
  } else if (n == 0) {
    local_eof();
  } else if (!ends_quietly(errno)) {
    // A read error on stdin (EIO from a vanished terminal) ends our sending like EOF.
    local_eof();
  }
  update();
}

void StreamRelay::write_socket() {
  if (finished_) return;
  if (tls_) seal();
  if (finished_) return;
  Buffer& wire = tls_ ? tls_->output() : up_;
  while (!wire.empty()) {
    const ssize_t n =
        ::send(socket_.fd(), wire.peek(), wire.readable_bytes(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (ends_quietly(errno)) break;
      fail(errno_text(errno));
      return;
    }
    wire.retrieve(static_cast<std::size_t>(n));
    if (!tls_) result_.bytes_sent += static_cast<std::uint64_t>(n);
    touch();
  }
  if (wire.empty() && up_.empty()) {
    up_.release_if_empty(2 * kChunk);
    wire.release_if_empty(2 * kChunk);
    // Under TLS, FIN follows the close_notify that seal() queued.
    if (in_eof_ && !fin_sent_ && options_.shutdown_on_eof && (!tls_ || tls_->closed())) {
      socket_.shutdown_write();
      fin_sent_ = true;
      if (options_.on_event)
        options_.on_event(tls_ ? "stdin EOF: sent close_notify and FIN" : "stdin EOF: sent FIN");
    }
    check_done();
  }
  update();
}

void StreamRelay::read_socket() {
  if (finished_ || peer_eof_) return;
  if (tls_) {
    wire_.ensure_writable(kChunk);
    const ssize_t n = ::recv(socket_.fd(), wire_.begin_write(), kChunk, MSG_DONTWAIT);
    if (n > 0) {
      touch();
      if (tls_->feed(wire_.begin_write(), static_cast<std::size_t>(n)) ==
          tls::Session::Status::kFailed) {
        send_alert();
        fail(tls_->error());
        return;
      }
      unseal();
      if (finished_) return;
      write_local();
      if (!finished_) write_socket();  // handshake replies, and stdin held until it was done
    } else if (n == 0) {
      if (!tls_->open()) {
        fail("the peer closed the connection during the TLS handshake");
        return;
      }
      // Records that came before the FIN may still wait in the session for stdout to take
      // what it holds: the FIN counts once they are decrypted (unseal() decides).
      fin_seen_ = true;
      unseal();
      if (finished_) return;
      write_local();
    } else if (!ends_quietly(errno)) {
      fail(errno_text(errno));
      return;
    }
    update();
    return;
  }
  down_.ensure_writable(kChunk);
  const ssize_t n = ::recv(socket_.fd(), down_.begin_write(), kChunk, MSG_DONTWAIT);
  if (n > 0) {
    const std::size_t len = static_cast<std::size_t>(n);
    if (options_.observer)
      options_.observer(Direction::kReceived, result_.bytes_received, {down_.begin_write(), len});
    down_.has_written(len);
    result_.bytes_received += len;
    touch();
    write_local();
  } else if (n == 0) {
    peer_eof();
  } else if (!ends_quietly(errno)) {
    fail(errno_text(errno));
    return;
  }
  update();
}

void StreamRelay::write_local() {
  if (finished_) return;
  while (!down_.empty() && !out_closed_) {
    const ssize_t n = ::write(out_->fd, down_.peek(), down_.readable_bytes());
    if (n < 0) {
      if (ends_quietly(errno)) break;
      // Whoever reads our output went away (EPIPE): stop taking the peer's bytes, as a
      // pipeline's `head` expects, but keep sending ours.
      down_.retrieve_all();
      out_closed_ = true;
      out_->want(false, false);
      ::shutdown(socket_.fd(), SHUT_RD);
      peer_eof_ = true;
      break;
    }
    down_.retrieve(static_cast<std::size_t>(n));
    // Records left as ciphertext while stdout was full: decrypt the next part now, since
    // epoll cannot see what waits inside the session.
    if (down_.empty() && tls_ && !peer_eof_ && tls_->pending_ciphertext() > 0) {
      unseal();
      if (finished_) return;
    }
  }
  if (down_.empty()) {
    down_.release_if_empty(2 * kChunk);
    if (peer_eof_ && !out_closed_ && options_.close_output_on_peer_eof) {
      out_->want(false, false);
      out_closed_ = true;
      // The local reader sees EOF now. /dev/null takes the descriptor's place rather than
      // a close, so that a later socket cannot become "stdout" by reusing its number.
      const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (null >= 0) {
        ::dup2(null, out_->fd);
        ::close(null);
      } else {
        ::close(out_->fd);
      }
      // Often from this channel's own write callback, which Channel allows (it leaves the
      // loop as it goes).
      out_->channel.reset();
      out_->saved_flags = -1;
    }
    check_done();
  }
  update();
}

// Plaintext from stdin into records (once the handshake is done), and close_notify after
// stdin's last byte.
void StreamRelay::seal() {
  if (!tls_->open() || tls_->failed()) return;
  if (!up_.empty() && !tls_->closed()) {
    result_.bytes_sent += up_.readable_bytes();
    if (tls_->write(up_.peek(), up_.readable_bytes()) == tls::Session::Status::kFailed) {
      fail(tls_->error());
      return;
    }
    up_.retrieve_all();
  }
  if (in_eof_ && up_.empty() && options_.shutdown_on_eof && !tls_->closed()) tls_->close();
}

// Records into plaintext for stdout, up to high_water; notes the end of the handshake and
// the peer's close_notify.
void StreamRelay::unseal() {
  const std::size_t before = down_.readable_bytes();
  const auto status = tls_->read(down_, options_.high_water);
  const std::size_t got = down_.readable_bytes() - before;
  if (got > 0) {
    if (options_.observer)
      options_.observer(Direction::kReceived, result_.bytes_received, {down_.peek() + before, got});
    result_.bytes_received += got;
  }
  if (status == tls::Session::Status::kFailed) {
    send_alert();
    fail(tls_->error());
    return;
  }
  if (tls_->open() && !tls_reported_) {
    tls_reported_ = true;
    if (handshake_timer_) loop_->cancel(handshake_timer_);
    if (options_.on_tls_established) options_.on_tls_established(*tls_);
  }
  if (status == tls::Session::Status::kClosed && !peer_eof_) {
    peer_eof_ = true;
    if (options_.on_event) options_.on_event("peer sent close_notify");
  }
  // After a FIN, below high_water means every record fed has been decrypted: the peer's side
  // is over, and whether its last bytes were cut short TLS cannot tell without close_notify.
  if (fin_seen_ && !peer_eof_ && down_.readable_bytes() < options_.high_water) {
    peer_eof_ = true;
    if (options_.on_event) options_.on_event("peer sent FIN without close_notify");
  }
}

// A failed handshake leaves an alert for the peer: one try to send it before closing.
void StreamRelay::send_alert() {
  Buffer& out = tls_->output();
  if (!out.empty())
    (void)::send(socket_.fd(), out.peek(), out.readable_bytes(), MSG_NOSIGNAL | MSG_DONTWAIT);
  out.retrieve_all();
}

void StreamRelay::local_eof() {
  in_eof_ = true;
  if (options_.quit_after >= Clock::duration::zero()) {
    quit_timer_ = loop_->run_after(options_.quit_after, [this, alive = alive_] {
      if (!*alive || finished_) return;
      result_.reason = "quit after stdin EOF";
      finish();
    });
  }
  write_socket();
}

void StreamRelay::peer_eof() {
  peer_eof_ = true;
  if (options_.on_event) options_.on_event("peer sent FIN");
  write_local();
}

void StreamRelay::check_done() {
  if (finished_) return;
  const bool sending_done = in_eof_ && up_.empty() && (fin_sent_ || !options_.shutdown_on_eof);
  const bool receiving_done = peer_eof_ && down_.empty();
  // Without --no-shutdown both halves must finish; with it, our side never sends FIN, so
  // the peer's FIN (after our stdin is done) ends the session.
  if ((sending_done || options_.end_on_peer_eof) && receiving_done) finish();
}

void StreamRelay::fail(std::string reason) {
  if (finished_) return;
  result_.failed = true;
  result_.reason = std::move(reason);
  finish();
}

void StreamRelay::touch() { last_activity_ = loop_->poll_time(); }

void StreamRelay::check_idle() {
  if (finished_) return;
  const Clock::duration quiet = Clock::now() - last_activity_;
  if (quiet >= options_.idle_timeout) {
    fail("idle timeout");
    return;
  }
  idle_timer_ = loop_->run_after(options_.idle_timeout - quiet, [this, alive = alive_] {
    if (*alive) check_idle();
  });
}

void StreamRelay::finish() {
  if (finished_) return;
  finished_ = true;
  if (quit_timer_) loop_->cancel(quit_timer_);
  if (idle_timer_) loop_->cancel(idle_timer_);
  if (handshake_timer_) loop_->cancel(handshake_timer_);
  in_->want(false, false);
  if (!out_closed_) {
    // What was received still goes to the local output, but for at most kFlushLimit: a
    // reader that never reads (`| sleep 1000` and Ctrl-C) must not hold the exit hostage.
    out_->want(false, false);
    const Clock::time_point give_up = Clock::now() + kFlushLimit;
    while (!down_.empty() && Clock::now() < give_up) {
      const ssize_t n = ::write(out_->fd, down_.peek(), down_.readable_bytes());
      if (n > 0) {
        down_.retrieve(static_cast<std::size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{out_->fd, POLLOUT, 0};
        ::poll(&p, 1, 50);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;
      }
    }
  }
  sock_->want(false, false);
  if (done_) {
    auto done = std::move(done_);
    done(result_);
  }
}

}  // namespace duplex::apps
