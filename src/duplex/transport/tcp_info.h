// Public. What the kernel knows about a TCP connection (TCP_INFO), for tools that show
// round-trip time, congestion window and retransmissions. Any thread (it reads the fd).
#pragma once

#include <cstdint>
#include <optional>

namespace duplex {

struct TcpInfo {
  std::uint32_t rtt_us = 0;         // smoothed round-trip time
  std::uint32_t rttvar_us = 0;      // its mean deviation
  std::uint32_t cwnd_segments = 0;  // congestion window
  std::uint32_t mss = 0;            // sender's maximum segment size
  std::uint32_t retransmits = 0;    // segments retransmitted over the connection's life
  std::uint32_t lost = 0;           // segments the kernel counts as lost now
  std::uint64_t pacing_rate = 0;    // bytes per second; ~0 when unlimited
  std::uint64_t delivery_rate = 0;  // bytes per second, the kernel's latest sample
  std::uint32_t snd_wnd = 0;        // the peer's advertised receive window, bytes (Linux 6.2+)
  std::uint32_t pmtu = 0;           // path MTU
  std::uint64_t bytes_acked = 0;
  std::uint64_t bytes_received = 0;
  std::uint8_t state = 0;  // TCP_ESTABLISHED, ... (netinet/tcp.h)
};

// nullopt when fd is not a TCP socket.
std::optional<TcpInfo> read_tcp_info(int fd) noexcept;

}  // namespace duplex
