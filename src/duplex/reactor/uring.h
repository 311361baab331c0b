// Public (used by transport/). The completion side of an EventLoop on the io_uring back-end
// (EventLoop::uring(); nullptr on epoll). Readiness (Channel) works on both back-ends; this
// is what a TCP connection uses instead of read() and send() where the loop has a ring:
//
//   recv()    a multishot receive: the kernel fills buffers of the loop's provided-buffer ring
//             and posts one completion per buffer, with no submission per read
//   send()    one send of bytes that must stay put until its completion
//   cancel()  ends an operation early; its final completion still comes (-ECANCELED or the
//             result it had reached)
//
// Every operation ends with exactly one final completion (more() false), after which the
// ring holds no reference to the UringOp or the bytes. SQEs prepared during a loop round
// leave together in the io_uring_enter that waits for the next completions, so a round of
// a thousand connections costs one system call. Loop thread only; liburing stays in the .cc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace duplex {

// What the ring calls back when an operation completes: res is the system call's result
// (bytes, or -errno), flags the CQE's flags (more(), the provided buffer). A function
// pointer rather than a virtual function: UBSan's check of a virtual call needs a free fd,
// which a server out of fds (the EMFILE case) has not, and would report a false error.
class UringOp {
 public:
  using Complete = void (*)(UringOp* op, int res, std::uint32_t flags);
  explicit UringOp(Complete fn) noexcept : fn_(fn) {}
  void complete(int res, std::uint32_t flags) { fn_(this, res, flags); }

 private:
  Complete fn_;
};

// Not virtual (see UringOp): the one implementation is the io_uring poller's.
class Uring {
 public:
  void recv(int fd, UringOp* op);
  // flags: MSG_* (MSG_NOSIGNAL is always added).
  void send(int fd, const char* data, std::size_t len, int flags, UringOp* op);
  void cancel(UringOp* op);
  // Hands what was prepared to the kernel now, not at the end of the round: SQEs name their
  // fd by number, which the kernel looks up only then, so call it before closing an fd that
  // prepared operations name (a send prepared and then cancelled goes out as far as the
  // socket takes it at once, as a write before close() would).
  void submit();
  // A receive's completion with res > 0: its bytes, valid until recycle(res, flags), which
  // gives them back to the kernel (do it before the callback returns, for every completion
  // that has a buffer).
  const char* buffer(std::uint32_t flags) const;
  void recycle(int res, std::uint32_t flags);
  // The result of every operation still out, or started, while the loop is destroyed: it
  // never ran, and the op must not start another.
  static constexpr int kGone = -108;  // -ESHUTDOWN
  // More completions follow for this operation (a multishot one still armed).
  static bool more(std::uint32_t flags) noexcept { return (flags & 2u) != 0; }  // F_MORE
  static bool has_buffer(std::uint32_t flags) noexcept { return (flags & 1u) != 0; }

 protected:
  Uring() = default;
  ~Uring() = default;
};

}  // namespace duplex
