// Public (used by transport/). One file descriptor's interest in an EventLoop and the
// callbacks to run when it becomes ready. A Channel does not own its fd. It is touched only
// from its loop's thread; none of its methods are safe from other threads.
//
// A channel may be destroyed anywhere in its loop's thread, inside one of its own callbacks
// included (stdin at EOF, an output that closed): it leaves the loop, is skipped for the
// rest of the round, and its other callbacks for that round do not run. A callback that
// destroys its channel must not touch its own captures afterwards: they are gone with it.
//
// Interest and readiness use the poll(2) bits (POLLIN == EPOLLIN, ...), which epoll and
// io_uring's IORING_OP_POLL_ADD both speak, so a second back-end needs no translation.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace duplex {

class EventLoop;

class Channel {
 public:
  using Callback = std::function<void()>;

  static constexpr std::uint32_t kNone = 0;
  static constexpr std::uint32_t kReadable = 0x001 | 0x002;  // POLLIN | POLLPRI
  static constexpr std::uint32_t kWritable = 0x004;          // POLLOUT

  Channel(EventLoop* loop, int fd) noexcept;
  // Leaves the loop if still in it (remove()).
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  void on_read(Callback cb) { read_cb_ = std::move(cb); }
  void on_write(Callback cb) { write_cb_ = std::move(cb); }
  void on_close(Callback cb) { close_cb_ = std::move(cb); }
  void on_error(Callback cb) { error_cb_ = std::move(cb); }

  // Keeps `owner` alive while this channel's callbacks run, and skips them once it is gone:
  // a connection closed by one callback cannot be destroyed under the next.
  void tie(const std::shared_ptr<void>& owner);

  void enable_reading() { set_interest(interest_ | kReadable); }
  void disable_reading() { set_interest(interest_ & ~kReadable); }
  void enable_writing() { set_interest(interest_ | kWritable); }
  void disable_writing() { set_interest(interest_ & ~kWritable); }
  void disable_all() { set_interest(kNone); }
  bool is_reading() const noexcept { return (interest_ & kReadable) != 0; }
  bool is_writing() const noexcept { return (interest_ & kWritable) != 0; }
  bool has_no_interest() const noexcept { return interest_ == kNone; }

  // Leaves the loop for good (the destructor does it too).
  void remove();

  int fd() const noexcept { return fd_; }
  EventLoop* loop() const noexcept { return loop_; }
  std::uint32_t interest() const noexcept { return interest_; }

  // For the Poller: what is ready, and the poller's own bookkeeping slot.
  void set_ready(std::uint32_t events) noexcept { ready_ = events; }
  int poller_slot() const noexcept { return poller_slot_; }
  void set_poller_slot(int slot) noexcept { poller_slot_ = slot; }

  // Runs the callbacks for the ready events. Called by the loop.
  void handle_events();

 private:
  void set_interest(std::uint32_t interest);
  void dispatch();

  EventLoop* loop_;
  int fd_;
  std::uint32_t interest_ = kNone;
  std::uint32_t ready_ = 0;
  int poller_slot_ = -1;
  bool tied_ = false;
  bool added_ = false;
  // Set while the callbacks run: where to tell dispatch() that a callback destroyed us.
  bool* destroyed_ = nullptr;
  std::weak_ptr<void> owner_;
  Callback read_cb_, write_cb_, close_cb_, error_cb_;
};

// Whether an EventLoop can watch `fd`: epoll refuses regular files and some devices
// (/dev/null) with EPERM, though poll(2) calls them always ready. Asking a scratch epoll set
// is the only reliable test; callers read such fds with plain calls instead.
bool is_pollable(int fd);

}  // namespace duplex
