#include "duplex/apps/scan/syn_socket.h"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "duplex/base/error.h"
#include "duplex/base/wire.h"
#include "duplex/inet/checksum.h"
#include "duplex/inet/endpoint.h"
#include "duplex/inet/icmp.h"
#include "duplex/inet/icmpv6.h"
#include "duplex/inet/ipv4_header.h"
#include "duplex/inet/ipv6_header.h"
#include "duplex/transport/tcp_header.h"

namespace duplex::scan {
namespace {

Socket raw_socket(int family, int protocol) {
  Socket s(::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol));
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

// An IPv6 raw TCP socket: the kernel fills in the checksum (over the source it picks), and
// drops arriving segments whose checksum is wrong.
Socket raw_tcp6() {
  Socket s = raw_socket(AF_INET6, IPPROTO_TCP);
  const int offset = 16;  // where TCP's checksum is
  ::setsockopt(s.fd(), IPPROTO_IPV6, IPV6_CHECKSUM, &offset, sizeof offset);
  return s;
}

// An ICMPv6 raw socket that the kernel wakes only for destination unreachables, not for
// every neighbour solicitation on the link.
Socket raw_icmp6() {
  Socket s = raw_socket(AF_INET6, IPPROTO_ICMPV6);
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
  ::setsockopt(s.fd(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
  return s;
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

// The same for ICMPv6's destination unreachable (RFC 4443 3.1).
Reason unreachable6_reason(std::uint8_t code) {
  switch (code) {
    case 0:
      return Reason::net_unreach;  // no route
    case 1:
    case 5:
    case 6:
      return Reason::admin_prohibited;  // prohibited, failed policy, reject route
    case 4:
      return Reason::port_unreach;
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

SynSocket::SynSocket(bool ipv4, bool ipv6) : matcher_(random_matcher()) {
  if (ipv4) {
    sockets_[static_cast<int>(Kind::tcp4)] = raw_socket(AF_INET, IPPROTO_TCP);
    sockets_[static_cast<int>(Kind::icmp4)] = raw_socket(AF_INET, IPPROTO_ICMP);
  }
  if (ipv6) {
    sockets_[static_cast<int>(Kind::tcp6)] = raw_tcp6();
    sockets_[static_cast<int>(Kind::icmp6)] = raw_icmp6();
  }
}

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
  if (host.is_v4()) {  // IPv6: the kernel sums it (IPV6_CHECKSUM)
    const std::uint32_t sum = inet::pseudo_header_sum(source, host, IPPROTO_TCP, sizeof seg);
    put16(seg + 16, inet::checksum_fold(inet::checksum_add(sum, seg)));
  }
  sockaddr_storage ss;
  const socklen_t len = inet::Endpoint(host, 0).to_sockaddr(ss);
  const int fd = this->fd(host.is_v4() ? Kind::tcp4 : Kind::tcp6);
  if (fd < 0) return EAFNOSUPPORT;
  if (::sendto(fd, seg, sizeof seg, 0, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    return errno;
  }
  return 0;
}

std::optional<SynAnswer> SynMatcher::answer(const inet::Address& host,
                                            std::span<const std::uint8_t> segment) const noexcept {
  const auto tcp = transport::decode_tcp(segment);
  if (tcp.header_length == 0 || tcp.destination_port != source_port_) return {};
  if (tcp.acknowledgment != cookie(host, tcp.source_port) + 1) return {};
  if (tcp.has(transport::kTcpRst)) {
    return SynAnswer{host, tcp.source_port, {PortState::closed, Reason::conn_refused}};
  }
  if (tcp.has(transport::kTcpSyn) && tcp.has(transport::kTcpAck)) {
    return SynAnswer{host, tcp.source_port, {PortState::open, Reason::syn_ack}};
  }
  return {};
}

std::optional<SynAnswer> SynMatcher::from_tcp(std::span<const std::uint8_t> packet) const noexcept {
  const auto ip = inet::decode_ipv4(packet);
  if (ip.header_length == 0 || ip.protocol != IPPROTO_TCP || !ip.first_fragment()) return {};
  return answer(ip.source, packet.subspan(ip.header_length, ip.payload_length));
}

std::optional<SynAnswer> SynMatcher::from_tcp6(
    const inet::Address& source, std::span<const std::uint8_t> segment) const noexcept {
  if (source.is_v4()) return {};
  return answer(source, segment);
}

std::optional<SynAnswer> SynMatcher::quoted(const inet::Address& host,
                                            std::span<const std::uint8_t> head,
                                            Reason reason) const noexcept {
  // Only 8 bytes of the TCP header are sure to be quoted: the ports and the sequence number.
  if (head.size() < 8) return {};
  const std::uint16_t sport = wire::be16(head.data()), dport = wire::be16(head.data() + 2);
  const std::uint32_t seq = wire::be32(head.data() + 4);
  if (sport != source_port_ || seq != cookie(host, dport)) return {};
  return SynAnswer{host, dport, {PortState::filtered, reason}};
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
  if (quoted.size() < inner.header_length) return {};
  return this->quoted(inner.destination, quoted.subspan(inner.header_length),
                      unreachable_reason(icmp.code));
}

std::optional<SynAnswer> SynMatcher::from_icmp6(
    std::span<const std::uint8_t> message) const noexcept {
  const auto icmp = inet::decode_icmpv6(message);
  if (icmp.type != ICMP6_DST_UNREACH || icmp.quoted_offset == 0 ||
      icmp.quoted_offset > message.size())
    return {};
  const auto quoted = message.subspan(icmp.quoted_offset);
  const auto inner = inet::decode_ipv6(quoted);
  if (inner.header_length == 0 || inner.final_next_header != IPPROTO_TCP) return {};
  if (quoted.size() < inner.header_length) return {};
  return this->quoted(inner.destination, quoted.subspan(inner.header_length),
                      unreachable6_reason(icmp.code));
}

void SynSocket::read(Kind kind, const std::function<void(const SynAnswer&)>& on_answer, int max) {
  const int fd = this->fd(kind);
  std::uint8_t buf[1500];
  for (int i = 0; i < max; ++i) {
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n =
        ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n <= 0) return;
    const std::span<const std::uint8_t> packet{buf, static_cast<std::size_t>(n)};
    std::optional<SynAnswer> a;
    switch (kind) {
      case Kind::tcp4:
        a = matcher_.from_tcp(packet);
        break;
      case Kind::icmp4:
        a = matcher_.from_icmp(packet);
        break;
      case Kind::tcp6:
        if (auto e = inet::Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), from_len))
          a = matcher_.from_tcp6(e->address(), packet);
        break;
      case Kind::icmp6:
        a = matcher_.from_icmp6(packet);
        break;
    }
    if (a) on_answer(*a);
  }
}

std::optional<inet::Address> SynSocket::source_for(const inet::Address& host) {
  Socket s(::socket(host.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid() || s.connect(inet::Endpoint(host, 9)) != 0) return std::nullopt;
  return s.local_endpoint().address();
}

}  // namespace duplex::scan
