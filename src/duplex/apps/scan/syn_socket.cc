#include "duplex/apps/scan/syn_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "duplex/base/error.h"
#include "duplex/inet/checksum.h"
#include "duplex/inet/endpoint.h"
#include "duplex/inet/icmp.h"
#include "duplex/inet/ipv4_header.h"
#include "duplex/transport/tcp_header.h"

namespace duplex::scan {
namespace {

Socket raw_socket(int protocol) {
  Socket s(::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol));
  if (!s.valid()) {
    const int err = errno;
    throw Error("a SYN scan needs raw sockets: " + errno_text(err) +
                (err == EPERM ? "; run it as root or give duplex CAP_NET_RAW (or scan without "
                                "--syn: a connect scan needs no privilege)"
                              : ""));
  }
  return s;
}

void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p + 2, static_cast<std::uint16_t>(v));
}

// The ICMP unreachable codes, as nmap reads them for a SYN: all filtered.
Reason unreachable_reason(std::uint8_t code) {
  switch (code) {
    case 0:
      return Reason::net_unreach;
    case 3:
      return Reason::port_unreach;
    case 9:
    case 10:
    case 13:
      return Reason::admin_prohibited;
    default:
      return Reason::host_unreach;
  }
}

}  // namespace

static SynMatcher random_matcher() {
  std::random_device rd;
  // A port above the usual ephemeral range (32768-60999), so no socket of ours uses it.
  const auto port = static_cast<std::uint16_t>(61000 + rd() % 4000);
  return {port, (std::uint64_t{rd()} << 32) | rd()};
}

SynSocket::SynSocket()
    : tcp_(raw_socket(IPPROTO_TCP)), icmp_(raw_socket(IPPROTO_ICMP)), matcher_(random_matcher()) {}

std::uint32_t SynMatcher::cookie(const inet::Address& host, std::uint16_t port) const noexcept {
  // FNV-1a over the address and port, keyed by the secret: enough to tell our answers from
  // strays; nothing here is a security boundary.
  std::uint64_t h = 1469598103934665603ull ^ secret_;
  for (std::size_t i = 0; i < host.size(); ++i) h = (h ^ host.data()[i]) * 1099511628211ull;
  h = (h ^ port) * 1099511628211ull;
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

int SynSocket::send_syn(const inet::Address& source, const inet::Address& host,
                        std::uint16_t port) {
  // 20 bytes of header and an MSS option of 1460, as nmap's SYN carries.
  std::uint8_t seg[24] = {};
  put16(seg, matcher_.source_port());
  put16(seg + 2, port);
  put32(seg + 4, matcher_.cookie(host, port));
  seg[12] = 6 << 4;  // data offset: 6 words
  seg[13] = transport::kTcpSyn;
  put16(seg + 14, 1024);
  seg[20] = 2;
  seg[21] = 4;
  put16(seg + 22, 1460);
  const std::uint32_t sum = inet::pseudo_header_sum(source, host, IPPROTO_TCP, sizeof seg);
  put16(seg + 16, inet::checksum_fold(inet::checksum_add(sum, seg)));
  sockaddr_storage ss;
  const socklen_t len = inet::Endpoint(host, 0).to_sockaddr(ss);
  if (::sendto(tcp_.fd(), seg, sizeof seg, 0, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    return errno;
  }
  return 0;
}

std::optional<SynAnswer> SynMatcher::from_tcp(std::span<const std::uint8_t> packet) const noexcept {
  const auto ip = inet::decode_ipv4(packet);
  if (ip.header_length == 0 || ip.protocol != IPPROTO_TCP || !ip.first_fragment()) return {};
  const auto tcp = transport::decode_tcp(packet.subspan(ip.header_length, ip.payload_length));
  if (tcp.header_length == 0 || tcp.destination_port != source_port_) return {};
  if (tcp.acknowledgment != cookie(ip.source, tcp.source_port) + 1) return {};
  if (tcp.has(transport::kTcpRst)) {
    return SynAnswer{ip.source, tcp.source_port, {PortState::closed, Reason::conn_refused}};
  }
  if (tcp.has(transport::kTcpSyn) && tcp.has(transport::kTcpAck)) {
    return SynAnswer{ip.source, tcp.source_port, {PortState::open, Reason::syn_ack}};
  }
  return {};
}

std::optional<SynAnswer> SynMatcher::from_icmp(
    std::span<const std::uint8_t> packet) const noexcept {
  const auto ip = inet::decode_ipv4(packet);
  if (ip.header_length == 0 || ip.protocol != IPPROTO_ICMP || !ip.first_fragment()) return {};
  const auto message = packet.subspan(ip.header_length, ip.payload_length);
  const auto icmp = inet::decode_icmp(message);
  if (icmp.type != 3 || icmp.quoted_offset == 0 || icmp.quoted_offset > message.size()) return {};
  const auto quoted = message.subspan(icmp.quoted_offset);
  const auto inner = inet::decode_ipv4(quoted);
  if (inner.header_length == 0 || inner.protocol != IPPROTO_TCP) return {};
  // Only 8 bytes of the TCP header are quoted: the ports and the sequence number.
  if (quoted.size() < inner.header_length + 8u) return {};
  const auto head = quoted.subspan(inner.header_length, 8);
  const auto sport = static_cast<std::uint16_t>(head[0] << 8 | head[1]);
  const auto dport = static_cast<std::uint16_t>(head[2] << 8 | head[3]);
  const std::uint32_t seq = std::uint32_t{head[4]} << 24 | std::uint32_t{head[5]} << 16 |
                            std::uint32_t{head[6]} << 8 | head[7];
  if (sport != source_port_ || seq != cookie(inner.destination, dport)) return {};
  return SynAnswer{inner.destination, dport, {PortState::filtered, unreachable_reason(icmp.code)}};
}

namespace {

void drain(int fd, int max,
           const std::function<std::optional<SynAnswer>(std::span<const std::uint8_t>)>& match,
           const std::function<void(const SynAnswer&)>& on_answer) {
  std::uint8_t buf[1500];
  for (int i = 0; i < max; ++i) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    if (auto a = match({buf, static_cast<std::size_t>(n)})) on_answer(*a);
  }
}

}  // namespace

void SynSocket::read_tcp(const std::function<void(const SynAnswer&)>& on_answer, int max) {
  drain(
      tcp_.fd(), max, [this](auto p) { return matcher_.from_tcp(p); }, on_answer);
}

void SynSocket::read_icmp(const std::function<void(const SynAnswer&)>& on_answer, int max) {
  drain(
      icmp_.fd(), max, [this](auto p) { return matcher_.from_icmp(p); }, on_answer);
}

std::optional<inet::Address> SynSocket::source_for(const inet::Address& host) {
  Socket s(::socket(host.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid() || s.connect(inet::Endpoint(host, 9)) != 0) return std::nullopt;
  return s.local_endpoint().address();
}

}  // namespace duplex::scan
