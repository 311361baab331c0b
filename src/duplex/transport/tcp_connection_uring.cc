// TcpConnection on the io_uring back-end (see tcp_connection.h): one multishot receive into
// the loop's provided buffers, and one send out at a time, each holding the connection
// alive until its final completion.
//
// Pausing cancels the receive; what its completions still bring is held (held_) and given
// to the users, in order and before anything newer, when reading resumes, so back-pressure
// loses and reorders nothing. Sends take the bytes queued in output_ (swapped into sending_,
// which stays put while the kernel reads it); what users send meanwhile waits in output_
// for the next send, which the completion submits at once.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex {
namespace {

constexpr std::size_t kRoundBudget = Buffer::kExtraReadSize;
// Held beyond this, the receive is cancelled until the users caught up: the kernel's
// receive window then closes and the peer slows down.
constexpr std::size_t kHeldMax = 256 * 1024;

}  // namespace

void TcpConnection::RecvOp::done(UringOp* op, int res, std::uint32_t flags) {
  static_cast<RecvOp*>(op)->conn->uring_recv_done(res, flags);
}

void TcpConnection::SendOp::done(UringOp* op, int res, std::uint32_t) {
  static_cast<SendOp*>(op)->conn->uring_send_done(res);
}

void TcpConnection::uring_arm_recv() {
  if (recv_hold_) return;  // still out (perhaps cancelled): its final completion re-arms
  recv_hold_ = shared_from_this();
  recv_cancelled_ = false;
  ring_->recv(socket_.fd(), &recv_op_);
}

void TcpConnection::uring_recv_done(int res, std::uint32_t flags) {
  // The final completion lets the connection go, at the end of this call at the earliest.
  const TcpConnectionPtr self = Uring::more(flags) ? nullptr : std::move(recv_hold_);
  if (res == Uring::kGone) return;  // the loop is being destroyed
  const bool open = state() != State::kDisconnected && !peer_closed_;
  if (res > 0) {
    const char* data = ring_->buffer(flags);
    if (open) {
      bytes_received_ += static_cast<std::uint64_t>(res);
      last_activity_ = loop_->poll_time();
      const auto n = static_cast<std::size_t>(res);
      if (reading_ && held_.empty() && within_round_budget(n)) {
        uring_take(data, n);
      } else {
        held_.append(data, n);
        if (held_.readable_bytes() > kHeldMax) uring_stop_recv();  // the window closes
        uring_schedule_held();
      }
    }
    ring_->recycle(res, flags);
  } else if (res == 0) {
    if (open) {
      if (reading_ && held_.empty()) {
        peer_fin();
      } else {
        fin_held_ = true;
        uring_schedule_held();
      }
    }
    return;  // a FIN ends the receive for good
  } else if (res != -ECANCELED && res != -ENOBUFS && res != -EAGAIN) {
    if (state() != State::kDisconnected) close_with_error(-res);
    return;
  }
  // Ended early (cancelled and resumed since, out of buffers, an overflowing ring): again.
  if (self && reading_ && held_.empty() && state() != State::kDisconnected && !peer_closed_)
    uring_arm_recv();
}

// One round gives a connection's users at most what one epoll read would (64 KiB); the rest
// waits for the queued work after the round, behind what the users queued (a high-water
// callback that pauses us), as with epoll's one read per wake-up.
bool TcpConnection::within_round_budget(std::size_t n) {
  if (budget_round_ != loop_->rounds()) {
    budget_round_ = loop_->rounds();
    budget_used_ = 0;
  }
  if (budget_used_ >= kRoundBudget) return false;
  budget_used_ += n;
  return true;
}

// Received bytes for the users: through the shared buffer (or input_) as read() gives them.
void TcpConnection::uring_take(const char* data, std::size_t len) {
  const Clock::time_point received = loop_->poll_time();
  if (filter_) {
    filter_read(data, len, received);
    return;
  }
  const bool shared = shared_input_ && input_.empty();
  Buffer& in = shared ? shared_read_buffer() : input_;
  in.append(data, len);
  deliver(in, shared, received);
}

void TcpConnection::uring_stop_recv() {
  if (recv_hold_ && !recv_cancelled_) {
    recv_cancelled_ = true;
    ring_->cancel(&recv_op_);
  }
}

void TcpConnection::uring_pause() {
  if (!reading_) return;
  reading_ = false;
  uring_stop_recv();
}

void TcpConnection::uring_resume() {
  if (reading_) return;
  reading_ = true;
  if (held_.empty() && !fin_held_) {
    uring_arm_recv();
  } else {
    uring_schedule_held();  // not here: the caller must not be called back under
  }
}

void TcpConnection::uring_schedule_held() {
  if (!reading_ || held_scheduled_) return;
  held_scheduled_ = true;
  loop_->queue_in_loop([self = shared_from_this()] { self->uring_deliver_held(); });
}

// One round's budget of what was held; again after the next round while more is held.
void TcpConnection::uring_deliver_held() {
  held_scheduled_ = false;
  if (!reading_ || state() == State::kDisconnected || peer_closed_) return;
  if (!held_.empty()) {
    const std::size_t n = std::min(held_.readable_bytes(), kRoundBudget);
    uring_take(held_.peek(), n);
    held_.retrieve(n);
    if (!held_.empty()) {
      uring_schedule_held();  // does nothing if the users paused meanwhile
      return;
    }
    held_.release_if_empty();
    if (!reading_ || state() == State::kDisconnected) return;
  }
  if (fin_held_) {
    fin_held_ = false;
    peer_fin();
    return;
  }
  uring_arm_recv();  // does nothing while the receive is still out
}

void TcpConnection::uring_send_next() {
  if (sending_.empty()) {
    if (output_.empty()) return;
    std::swap(sending_, output_);
  }
  send_hold_ = shared_from_this();
  // MSG_WAITALL: the kernel itself sends the rest of a partial send before it completes.
  ring_->send(socket_.fd(), sending_.peek(), sending_.readable_bytes(), MSG_WAITALL, &send_op_);
}

void TcpConnection::uring_send_done(int res) {
  const TcpConnectionPtr self = std::move(send_hold_);
  if (state() == State::kDisconnected || res == Uring::kGone) return;
  if (res < 0) {
    if (res == -EAGAIN || res == -EINTR) {
      uring_send_next();
    } else if (res != -ECANCELED) {
      close_with_error(-res);
    }
    return;
  }
  sending_.retrieve(static_cast<std::size_t>(res));
  bytes_sent_ += static_cast<std::uint64_t>(res);
  if (res > 0) last_activity_ = loop_->poll_time();
  if (!sending_.empty() || !output_.empty()) {
    uring_send_next();
    return;
  }
  sending_.release_if_empty(kUringKeep);
  output_drained();
}

}  // namespace duplex
