#include "duplex/link/packet_socket.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "duplex/base/error.h"
#include "duplex/link/arp_frame.h"

namespace duplex::link {

PacketSocket::PacketSocket(unsigned ifindex, std::uint16_t ethertype)
    : ifindex_(ifindex), ethertype_(ethertype) {
  // Protocol 0 at first, so that nothing is queued from other interfaces before bind() sets
  // both the interface and the ethertype.
  fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    const int err = errno;
    if (err == EPERM || err == EACCES)
      throw Error(
          "sending and receiving raw frames needs CAP_NET_RAW; run as root, or grant it with "
          "`sudo setcap cap_net_raw+ep $(command -v duplex)`");
    throw Error(std::string("cannot open a packet socket: ") + std::strerror(err));
  }
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ethertype);
  addr.sll_ifindex = static_cast<int>(ifindex);
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    const int err = errno;
    ::close(fd_);
    throw Error("cannot bind a packet socket to interface " + std::to_string(ifindex) + ": " +
                std::strerror(err));
  }
}

PacketSocket::~PacketSocket() {
  if (fd_ >= 0) ::close(fd_);
}

PacketSocket::PacketSocket(PacketSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), ifindex_(other.ifindex_), ethertype_(other.ethertype_) {}

PacketSocket& PacketSocket::operator=(PacketSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    ifindex_ = other.ifindex_;
    ethertype_ = other.ethertype_;
  }
  return *this;
}

int PacketSocket::send(std::span<const std::uint8_t> frame) noexcept {
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ethertype_);
  addr.sll_ifindex = static_cast<int>(ifindex_);
  addr.sll_halen = 6;
  if (frame.size() >= 6) std::memcpy(addr.sll_addr, frame.data(), 6);
  const auto n = ::sendto(fd_, frame.data(), frame.size(), 0,
                          reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  if (n < 0) return errno;
  return 0;
}

std::optional<PacketSocket::Frame> PacketSocket::receive(std::span<std::uint8_t> buffer) noexcept {
  sockaddr_ll from{};
  socklen_t len = sizeof from;
  const auto n =
      ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
  if (n < 0) return std::nullopt;
  return Frame{static_cast<std::size_t>(n), from.sll_pkttype == PACKET_OUTGOING};
}

void PacketSocket::set_promiscuous() {
  packet_mreq mr{};
  mr.mr_ifindex = static_cast<int>(ifindex_);
  mr.mr_type = PACKET_MR_PROMISC;
  if (::setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
    throw Error(std::string("cannot make interface ") + std::to_string(ifindex_) +
                " promiscuous: " + std::strerror(errno));
}

void PacketSocket::ignore_outgoing() {
  const int one = 1;
  if (::setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0)
    throw Error(std::string("the kernel refused PACKET_IGNORE_OUTGOING (Linux 4.20 or newer): ") +
                std::strerror(errno));
}

void PacketSocket::set_buffers(int bytes) noexcept {
  for (const auto& [force, plain] :
       {std::pair{SO_RCVBUFFORCE, SO_RCVBUF}, std::pair{SO_SNDBUFFORCE, SO_SNDBUF}})
    if (::setsockopt(fd_, SOL_SOCKET, force, &bytes, sizeof bytes) < 0)
      ::setsockopt(fd_, SOL_SOCKET, plain, &bytes, sizeof bytes);
}

std::size_t PacketSocket::receive_many(std::span<const std::span<std::uint8_t>> buffers,
                                       std::span<std::size_t> sizes) noexcept {
  constexpr std::size_t kMax = 64;
  mmsghdr msgs[kMax];
  iovec iov[kMax];
  const std::size_t n = std::min({buffers.size(), sizes.size(), kMax});
  for (std::size_t i = 0; i < n; ++i) {
    iov[i] = {buffers[i].data(), buffers[i].size()};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const int got = ::recvmmsg(fd_, msgs, static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  if (got <= 0) return 0;
  for (int i = 0; i < got; ++i)
    sizes[static_cast<std::size_t>(i)] =
        (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 : msgs[i].msg_len;
  return static_cast<std::size_t>(got);
}

std::size_t PacketSocket::send_many(std::span<const std::span<const std::uint8_t>> frames,
                                    int* error) noexcept {
  constexpr std::size_t kMax = 64;
  mmsghdr msgs[kMax];
  iovec iov[kMax];
  std::size_t sent = 0;
  while (sent < frames.size()) {
    const std::size_t n = std::min(frames.size() - sent, kMax);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& f = frames[sent + i];
      iov[i] = {const_cast<std::uint8_t*>(f.data()), f.size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int done = ::sendmmsg(fd_, msgs, static_cast<unsigned>(n), MSG_DONTWAIT);
    if (done < 0) {
      *error = errno;
      return sent;
    }
    sent += static_cast<std::size_t>(done);
    if (static_cast<std::size_t>(done) < n) {
      *error = EAGAIN;
      return sent;
    }
  }
  return sent;
}

std::uint64_t PacketSocket::take_drops() noexcept {
  tpacket_stats stats{};
  socklen_t len = sizeof stats;
  if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &stats, &len) < 0) return 0;
  return stats.tp_drops;
}

bool PacketSocket::wait(std::chrono::nanoseconds timeout) noexcept {
  if (timeout.count() < 0) timeout = {};
  pollfd p{fd_, POLLIN, 0};
  const timespec ts{static_cast<time_t>(timeout.count() / 1'000'000'000),
                    static_cast<long>(timeout.count() % 1'000'000'000)};
  return ::ppoll(&p, 1, &ts, nullptr) > 0 && (p.revents & POLLIN);
}

}  // namespace duplex::link
