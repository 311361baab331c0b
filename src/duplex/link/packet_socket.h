// Public. An AF_PACKET socket bound to one interface that sends and receives whole ARP
// frames (Ethernet header included), for ARP ping, scan and watch.
//
// Opening one needs CAP_NET_RAW; the error says so and how to get it. Move-only; use it from
// one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace duplex::link {

class PacketSocket {
 public:
  // Receives the ARP frames (ethertype 0x0806) of interface `ifindex` only. The socket is
  // non-blocking. Throws duplex::Error when refused (CAP_NET_RAW) or the interface is gone.
  explicit PacketSocket(unsigned ifindex);
  ~PacketSocket();
  PacketSocket(PacketSocket&& other) noexcept;
  PacketSocket& operator=(PacketSocket&& other) noexcept;
  PacketSocket(const PacketSocket&) = delete;
  PacketSocket& operator=(const PacketSocket&) = delete;

  int fd() const noexcept { return fd_; }
  unsigned ifindex() const noexcept { return ifindex_; }

  // Sends one frame as given (destination MAC first). Returns 0 or the errno.
  int send(std::span<const std::uint8_t> frame) noexcept;

  struct Frame {
    std::size_t size = 0;
    bool outgoing = false;  // sent by this host (a packet socket sees those too)
  };
  // Reads one waiting frame into `buffer`; nullopt when none is waiting (or on error).
  std::optional<Frame> receive(std::span<std::uint8_t> buffer) noexcept;

  // Waits until a frame is waiting or `timeout` passes; false on timeout or when a signal
  // interrupted the wait (the caller checks its own stop flag then).
  // FIXME: a poll() of its own until the reactor's EventLoop lands; then the socket
  // becomes a Channel on the loop and this goes.
  bool wait(std::chrono::nanoseconds timeout) noexcept;

 private:
  int fd_ = -1;
  unsigned ifindex_ = 0;
};

}  // namespace duplex::link
