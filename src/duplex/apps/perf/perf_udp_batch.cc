#include "duplex/apps/perf/perf_udp_batch.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace duplex::apps::perf {
namespace {

constexpr std::size_t kMaxBatch = 64;        // UDP_MAX_SEGMENTS of older kernels
constexpr std::size_t kMaxGsoBytes = 65000;  // under 64 KiB with the IP and UDP headers

}  // namespace

void fill_datagrams(char* out, std::size_t size, std::size_t count, std::uint64_t first,
                    UdpHeader time, bool counters_64bit) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    time.sequence = first + i;
    encode_udp_header(time, counters_64bit, out + i * size);
  }
}

UdpBatchSender::UdpBatchSender(std::uint32_t size, bool counters_64bit, std::size_t max)
    : size_(std::max<std::uint32_t>(size,
                                    static_cast<std::uint32_t>(udp_header_size(counters_64bit)))),
      wide_(counters_64bit),
      max_(std::clamp<std::size_t>(max, 1, kMaxBatch)),
      gso_(size_ * 2 <= kMaxGsoBytes) {
  if (gso_) max_ = std::min<std::size_t>(max_, kMaxGsoBytes / size_);
  buffer_.reset(new char[max_ * size_]);
  std::memset(buffer_.get(), 0, max_ * size_);
}

long UdpBatchSender::send(int fd, std::uint64_t first, std::size_t count) {
  count = std::clamp<std::size_t>(count, 1, max_);
  fill_datagrams(buffer_.get(), size_, count, first, udp_header_now(first), wide_);
  if (count == 1) {
    const ssize_t n = ::send(fd, buffer_.get(), size_, MSG_NOSIGNAL);
    return n < 0 ? -1 : 1;
  }
  if (gso_) {
    const long n = send_gso(fd, count);
    if (n >= 0 || gso_) return n;
    // Refused: sendmmsg from now on, starting with this batch.
  }
  return send_mmsg(fd, count);
}

long UdpBatchSender::send_gso(int fd, std::size_t count) {
  if (!gso_set_ || gso_fd_ != fd) {
    const int segment = static_cast<int>(size_);
    if (::setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &segment, sizeof segment) != 0) {
      gso_ = false;  // an older kernel: ENOPROTOOPT
      return -1;
    }
    gso_set_ = true;
    gso_fd_ = fd;
  }
  const ssize_t n = ::send(fd, buffer_.get(), count * size_, MSG_NOSIGNAL);
  if (n >= 0) return static_cast<long>(count);
  const int err = errno;
  if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ENOBUFS || err == ECONNREFUSED)
    return -1;
  // EIO, EINVAL, EMSGSIZE...: this socket's route cannot segment; one datagram a message.
  const int off = 0;
  ::setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &off, sizeof off);
  gso_ = false;
  gso_set_ = false;
  return -1;
}

long UdpBatchSender::send_mmsg(int fd, std::size_t count) {
  iovec iov[kMaxBatch];
  mmsghdr msgs[kMaxBatch];
  std::memset(msgs, 0, sizeof(mmsghdr) * count);
  for (std::size_t i = 0; i < count; ++i) {
    iov[i].iov_base = buffer_.get() + i * size_;
    iov[i].iov_len = size_;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const int n = ::sendmmsg(fd, msgs, static_cast<unsigned>(count), MSG_NOSIGNAL);
  return n < 0 ? -1 : n;
}

long receive_datagrams(int fd, char* buffers, std::size_t size, std::size_t count,
                       std::size_t* lengths) {
  count = std::min(count, kMaxBatch);
  iovec iov[kMaxBatch];
  mmsghdr msgs[kMaxBatch];
  std::memset(msgs, 0, sizeof(mmsghdr) * count);
  for (std::size_t i = 0; i < count; ++i) {
    iov[i].iov_base = buffers + i * size;
    iov[i].iov_len = size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const int n = ::recvmmsg(fd, msgs, static_cast<unsigned>(count), MSG_TRUNC, nullptr);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
  for (int i = 0; i < n; ++i) lengths[i] = msgs[i].msg_len;
  return n;
}

}  // namespace duplex::apps::perf
