// Public. An AF_PACKET socket bound to one interface that sends and receives whole frames
// (Ethernet header included): ARP frames for ARP ping, scan and watch, or every frame
// (kAllFrames) for a forwarder such as duplex impair, which uses the batched calls.
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
  static constexpr std::uint16_t kArp = 0x0806;
  static constexpr std::uint16_t kAllFrames = 0x0003;  // ETH_P_ALL

  // Receives the frames of `ethertype` (ARP by default) of interface `ifindex` only. The
  // socket is non-blocking. Throws duplex::Error when refused (CAP_NET_RAW) or the
  // interface is gone.
  explicit PacketSocket(unsigned ifindex, std::uint16_t ethertype = kArp);
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

  // For forwarding. Each throws duplex::Error naming what the kernel refused.
  // Frames for other hosts too (PACKET_MR_PROMISC), as a bridge port sees them.
  void set_promiscuous();
  // Not our own sends (PACKET_IGNORE_OUTGOING, Linux 4.20), so they are not forwarded back.
  void ignore_outgoing();
  // Kernel buffers (SO_RCVBUFFORCE/SO_SNDBUFFORCE as root, else capped by rmem_max).
  void set_buffers(int bytes) noexcept;

  // Reads up to buffers.size() waiting frames with one recvmmsg(); sizes[i] is frame i's
  // length, or 0 when it was longer than its buffer (it is dropped). Returns how many
  // were read: 0 when none is waiting.
  std::size_t receive_many(std::span<const std::span<std::uint8_t>> buffers,
                           std::span<std::size_t> sizes) noexcept;
  // Sends frames with sendmmsg() (at most 64 a call). Returns how many the kernel took;
  // when fewer than all, *error holds why (EAGAIN/ENOBUFS: its queue is full for now).
  std::size_t send_many(std::span<const std::span<const std::uint8_t>> frames, int* error) noexcept;
  // Frames the kernel dropped because our receive buffer was full, since the last call.
  std::uint64_t take_drops() noexcept;

  // Waits until a frame is waiting or `timeout` passes; false on timeout or when a signal
  // interrupted the wait (the caller checks its own stop flag then).
  // FIXME: a poll() of its own until the reactor's EventLoop lands; then the socket
  // becomes a Channel on the loop and this goes.
  bool wait(std::chrono::nanoseconds timeout) noexcept;

 private:
  int fd_ = -1;
  unsigned ifindex_ = 0;
  std::uint16_t ethertype_ = kArp;
};

}  // namespace duplex::link
