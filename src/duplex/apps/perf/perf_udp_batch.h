// Public. iperf3's UDP datagrams in batches: many datagrams per system call, on the wire
// the same datagrams one send() each would make (each with its own header: sec, usec and
// the next sequence number; all of the stream's length).
//
// Sending: with UDP generic segmentation (UDP_SEGMENT, Linux 4.18+), one send() of up to
// 64 equal datagrams laid end to end, which the kernel cuts into datagrams as late as it can
// (in the driver, or past the UDP layer), so the stack is walked once per batch. When the
// kernel or the route refuses it (EIO: the device has no checksum offload, as the veths of
// a `duplex lab`; EINVAL or EMSGSIZE: a datagram bigger than the route's MTU), the batcher
// turns segmentation off for good and uses sendmmsg(), one message per datagram.
// Receiving: recvmmsg(), up to a batch of datagrams per call, each with its own length
// (MSG_TRUNC: the real length, even if longer than the buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "duplex/apps/perf/perf_udp.h"

namespace duplex::apps::perf {

// Writes `count` datagrams of `size` bytes (>= the header) end to end into `out` (count *
// size bytes), their headers carrying `time` and the sequence numbers first, first + 1...
void fill_datagrams(char* out, std::size_t size, std::size_t count, std::uint64_t first,
                    UdpHeader time, bool counters_64bit) noexcept;

class UdpBatchSender {
 public:
  // size: the datagram's length; max: datagrams per call at most (<= 64).
  UdpBatchSender(std::uint32_t size, bool counters_64bit, std::size_t max = 64);
  // The most datagrams one send() may take.
  std::size_t max_datagrams() const noexcept { return max_; }
  // Sends up to `count` datagrams (1..max_datagrams()), numbered from `first`, on a
  // connected UDP socket. Returns how many went (> 0), or -1 with errno set (EAGAIN when
  // the socket takes none now).
  long send(int fd, std::uint64_t first, std::size_t count);
  bool segmenting() const noexcept { return gso_; }

 private:
  long send_gso(int fd, std::size_t count);
  long send_mmsg(int fd, std::size_t count);

  std::uint32_t size_;
  bool wide_;
  std::size_t max_;
  bool gso_;
  bool gso_set_ = false;  // UDP_SEGMENT is on for the socket in use
  int gso_fd_ = -1;
  std::unique_ptr<char[]> buffer_;
};

// recvmmsg() into `count` buffers of `size` bytes; lengths[i] gets each datagram's real
// length. Returns how many came (0 when none waits), or -1 with errno set.
long receive_datagrams(int fd, char* buffers, std::size_t size, std::size_t count,
                       std::size_t* lengths);

}  // namespace duplex::apps::perf
