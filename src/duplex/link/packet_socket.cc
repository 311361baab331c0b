#include "duplex/link/packet_socket.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "duplex/base/error.h"
#include "duplex/link/arp_frame.h"

namespace duplex::link {

PacketSocket::PacketSocket(unsigned ifindex) : ifindex_(ifindex) {
  // Protocol 0 at first, so that nothing is queued from other interfaces before bind() sets
  // both the interface and ETH_P_ARP.
  fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    const int err = errno;
    if (err == EPERM || err == EACCES)
      throw Error(
          "sending and receiving ARP frames needs CAP_NET_RAW; run as root, or grant it with "
          "`sudo setcap cap_net_raw+ep $(command -v duplex)`");
    throw Error(std::string("cannot open a packet socket: ") + std::strerror(err));
  }
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ARP);
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
    : fd_(std::exchange(other.fd_, -1)), ifindex_(other.ifindex_) {}

PacketSocket& PacketSocket::operator=(PacketSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    ifindex_ = other.ifindex_;
  }
  return *this;
}

int PacketSocket::send(std::span<const std::uint8_t> frame) noexcept {
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ARP);
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

bool PacketSocket::wait(std::chrono::nanoseconds timeout) noexcept {
  if (timeout.count() < 0) timeout = {};
  pollfd p{fd_, POLLIN, 0};
  const timespec ts{static_cast<time_t>(timeout.count() / 1'000'000'000),
                    static_cast<long>(timeout.count() % 1'000'000'000)};
  return ::ppoll(&p, 1, &ts, nullptr) > 0 && (p.revents & POLLIN);
}

}  // namespace duplex::link
