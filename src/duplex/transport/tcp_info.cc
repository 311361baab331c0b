#include "duplex/transport/tcp_info.h"

// linux/tcp.h, not netinet/tcp.h: glibc's copy of struct tcp_info stops before the
// pacing rate and byte counters.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace duplex {

std::optional<TcpInfo> read_tcp_info(int fd) noexcept {
  tcp_info ti{};
  socklen_t len = sizeof ti;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) return std::nullopt;
  TcpInfo out;
  out.rtt_us = ti.tcpi_rtt;
  out.rttvar_us = ti.tcpi_rttvar;
  out.cwnd_segments = ti.tcpi_snd_cwnd;
  out.mss = ti.tcpi_snd_mss;
  out.retransmits = ti.tcpi_total_retrans;
  out.lost = ti.tcpi_lost;
  out.pacing_rate = ti.tcpi_pacing_rate;
  out.delivery_rate = ti.tcpi_delivery_rate;
  out.snd_wnd = ti.tcpi_snd_wnd;  // 0 from an older kernel, which fills less of the struct
  out.pmtu = ti.tcpi_pmtu;
  out.bytes_acked = ti.tcpi_bytes_acked;
  out.bytes_received = ti.tcpi_bytes_received;
  out.state = ti.tcpi_state;
  return out;
}

}  // namespace duplex
