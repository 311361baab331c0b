#include "duplex/apps/scan/probe.h"

#include <sys/socket.h>

#include <cerrno>

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
