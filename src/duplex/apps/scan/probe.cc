#include "duplex/apps/scan/probe.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <utility>

namespace duplex::scan {

bool is_resource_error(int err) noexcept {
  return err == EMFILE || err == ENFILE || err == EADDRNOTAVAIL || err == ENOBUFS ||
         err == EAGAIN || err == ENOMEM;
}

PortOutcome outcome_of(Protocol protocol, int err) noexcept {
  switch (err) {
    case 0:
      return {PortState::open, protocol == Protocol::tcp ? Reason::syn_ack : Reason::udp_response};
    case ECONNREFUSED:
      return {PortState::closed,
              protocol == Protocol::tcp ? Reason::conn_refused : Reason::port_unreach};
    case EHOSTUNREACH:
    case EHOSTDOWN:
      return {PortState::filtered, Reason::host_unreach};
    case ENETUNREACH:
    case ENETDOWN:
    case ENONET:
      return {PortState::filtered, Reason::net_unreach};
    case EACCES:
    case EPERM:
      return {PortState::filtered, Reason::admin_prohibited};
    case ETIMEDOUT:
      return {PortState::filtered, Reason::no_response};
    default:
      return {PortState::filtered, Reason::error};
  }
}

namespace {

// The ephemeral range (net.ipv4.ip_local_port_range, which IPv6 shares), read once.
std::pair<std::uint16_t, std::uint16_t> local_port_range() {
  static const auto range = [] {
    std::pair<std::uint16_t, std::uint16_t> r{32768, 60999};
    if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
      unsigned lo = 0, hi = 0;
      if (std::fscanf(f, "%u %u", &lo, &hi) == 2 && lo > 0 && lo <= hi && hi <= 65535)
        r = {static_cast<std::uint16_t>(lo), static_cast<std::uint16_t>(hi)};
      std::fclose(f);
    }
    return r;
  }();
  return range;
}

// Binds the probe's socket to a port of its own, from the ephemeral range, so that the
// connect()s of its later probes keep it (a port bound by hand stays through a refused
// connect) instead of searching the range for a free one each time, as an unbound socket's
// connect() does. A port in use is skipped; after a few, the kernel chooses as usual.
void pin_local_port(Socket& s, int family) {
  static std::atomic<std::uint32_t> next{0};  // scans may run on several loops
  const auto [lo, hi] = local_port_range();
  const std::uint32_t span = hi - lo + 1u;
  for (int tries = 0; tries < 8; ++tries) {
    const auto port =
        static_cast<std::uint16_t>(lo + (next.fetch_add(1, std::memory_order_relaxed) % span));
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      len = sizeof *a;
    }
    if (::bind(s.fd(), reinterpret_cast<const sockaddr*>(&ss), len) == 0) return;
    if (errno != EADDRINUSE) return;
  }
}

}  // namespace

Socket start_probe(Protocol protocol, const inet::Endpoint& to, std::optional<PortOutcome>& outcome,
                   int* err) {
  const int family = to.address().is_v4() ? AF_INET : AF_INET6;
  const int type =
      (protocol == Protocol::tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  Socket s(::socket(family, type, 0));
  if (!s.valid()) {
    *err = errno;
    return {};
  }
  if (protocol == Protocol::tcp) pin_local_port(s, family);
  const int rc = s.connect(to);
  if (rc == EINPROGRESS) return s;
  if (rc != 0 && is_resource_error(rc)) {
    *err = rc;
    return {};
  }
  if (rc != 0) {
    outcome = outcome_of(protocol, rc);
    return s;
  }
  if (protocol == Protocol::tcp) {
    outcome = outcome_of(protocol, 0);
    return s;
  }
  // An empty datagram: what nmap sends to a port it has no payload for.
  if (::send(s.fd(), "", 0, MSG_NOSIGNAL) < 0) {
    if (is_resource_error(errno)) {
      *err = errno;
      return {};
    }
    outcome = outcome_of(protocol, errno);
  }
  return s;
}

std::optional<PortOutcome> read_udp_answer(const Socket& s) {
  char byte;
  const ssize_t n = ::recv(s.fd(), &byte, sizeof byte, MSG_TRUNC);
  if (n >= 0) return outcome_of(Protocol::udp, 0);
  if (errno == EAGAIN || errno == EINTR) return std::nullopt;
  return outcome_of(Protocol::udp, errno);
}

}  // namespace duplex::scan
