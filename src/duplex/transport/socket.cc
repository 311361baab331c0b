#include "duplex/transport/socket.h"

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "duplex/base/error.h"

namespace duplex {

namespace {

int family_of(const inet::Endpoint& e) { return e.address().is_v4() ? AF_INET : AF_INET6; }

Socket make(const inet::Endpoint& like, int type) {
  int fd = ::socket(family_of(like), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(socket_error("socket", errno, &like));
  return Socket(fd);
}

std::string fix_for(std::string_view op, int err, const inet::Endpoint* where) {
  const std::string port = where ? std::to_string(where->port()) : "the port";
  switch (err) {
    case EACCES:
      if (op == "bind" && where && where->port() < 1024 && where->port() != 0)
        return "port " + port + " needs root or CAP_NET_BIND_SERVICE";
      if (op == "sendto" || op == "send")
        return "sending to a broadcast address needs SO_BROADCAST";
      return "permission denied by the system or a firewall";
    case EADDRINUSE:
      return "another socket holds " + (where ? where->to_string() : "it") +
             "; pick another port, or stop the other program (ss -lntup 'sport = :" + port + "')";
    case EADDRNOTAVAIL:
      return "that address is not assigned to any interface here (see `ip -brief address`)";
    case EMFILE:
    case ENFILE:
      return "too many open files: raise the limit (ulimit -n)";
    case ECONNREFUSED:
      return "nothing listens there";
    case ETIMEDOUT:
      return "no answer in time: the host is down or a firewall drops the packets";
    case ENETUNREACH:
      return "no route to that network (see `ip route`)";
    case EHOSTUNREACH:
      return "no route to that host";
    case EAFNOSUPPORT:
      return "this system has that address family (IPv6?) turned off";
    case ENODEV:
      return "no such network interface (see `ip -brief link`)";
    case ENOENT:
      return "no such socket file";
    case EPERM:
      return op == "bind to device" ? "binding to a device needs root or CAP_NET_RAW"
                                    : "not permitted: root or a capability is needed";
    default:
      return {};
  }
}

}  // namespace

inet::Endpoint local_for(const inet::Endpoint& local, const inet::Endpoint& peer) noexcept {
  const inet::Family family = peer.address().family();
  if (!local.address().is_unspecified() || local.address().family() == family) return local;
  return inet::Endpoint(inet::Address::from_value(family, 0), local.port());
}

std::string errno_text(int err) {
  const char* name = ::strerrorname_np(err);
  std::string s = name ? name : ("errno " + std::to_string(err));
  return s + " (" + std::strerror(err) + ")";
}

std::string socket_error(std::string_view op, int err, const inet::Endpoint* where) {
  std::string s(op);
  if (where) s += " " + where->to_string();
  s += ": " + errno_text(err);
  std::string fix = fix_for(op, err, where);
  if (!fix.empty()) s += ": " + fix;
  return s;
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

int Socket::release() noexcept {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Socket Socket::tcp(const inet::Endpoint& like) { return make(like, SOCK_STREAM); }
Socket Socket::udp(const inet::Endpoint& like) { return make(like, SOCK_DGRAM); }

Socket Socket::unix_stream() {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(socket_error("socket", errno));
  return Socket(fd);
}

namespace {
// sockaddr_un for `path`; false when it does not fit in sun_path with its NUL.
bool unix_address(const std::string& path, sockaddr_un& sun) {
  sun = sockaddr_un{};
  sun.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sun.sun_path) return false;
  std::memcpy(sun.sun_path, path.data(), path.size());
  return true;
}
}  // namespace

void Socket::bind_path(const std::string& path) {
  sockaddr_un sun;
  if (!unix_address(path, sun))
    throw Error("bind " + path + ": a Unix socket path must be 1 to " +
                std::to_string(sizeof sun.sun_path - 1) + " bytes long");
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&sun), sizeof sun) < 0) {
    const int err = errno;
    throw Error("bind " + path + ": " + errno_text(err) +
                (err == EADDRINUSE ? ": a file exists there; remove it if no server uses it" : ""));
  }
}

int Socket::connect_path(const std::string& path) noexcept {
  sockaddr_un sun;
  if (!unix_address(path, sun)) return ENAMETOOLONG;
  return ::connect(fd_, reinterpret_cast<const sockaddr*>(&sun), sizeof sun) < 0 ? errno : 0;
}

void Socket::bind(const inet::Endpoint& local) {
  sockaddr_storage ss;
  socklen_t len = local.to_sockaddr(ss);
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&ss), len) < 0)
    throw Error(socket_error("bind", errno, &local));
}

void Socket::listen(int backlog) {
  if (::listen(fd_, backlog) < 0) throw Error(socket_error("listen", errno));
}

int Socket::accept(inet::Endpoint* peer) noexcept {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0 && peer) {
    if (auto e = inet::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len))
      *peer = *e;
  }
  return fd;
}

int Socket::connect(const inet::Endpoint& remote) noexcept {
  sockaddr_storage ss;
  socklen_t len = remote.to_sockaddr(ss);
  return ::connect(fd_, reinterpret_cast<const sockaddr*>(&ss), len) < 0 ? errno : 0;
}

void Socket::shutdown_write() noexcept { ::shutdown(fd_, SHUT_WR); }

void Socket::set_option(int level, int name, int value, std::string_view what) {
  if (::setsockopt(fd_, level, name, &value, sizeof value) < 0)
    throw Error(socket_error(what, errno));
}

void Socket::set_reuse_addr(bool on) { set_option(SOL_SOCKET, SO_REUSEADDR, on, "SO_REUSEADDR"); }
void Socket::set_reuse_port(bool on) { set_option(SOL_SOCKET, SO_REUSEPORT, on, "SO_REUSEPORT"); }
void Socket::set_no_delay(bool on) { set_option(IPPROTO_TCP, TCP_NODELAY, on, "TCP_NODELAY"); }
void Socket::set_keep_alive(bool on) { set_option(SOL_SOCKET, SO_KEEPALIVE, on, "SO_KEEPALIVE"); }
void Socket::set_send_buffer(int bytes) { set_option(SOL_SOCKET, SO_SNDBUF, bytes, "SO_SNDBUF"); }
void Socket::set_receive_buffer(int bytes) {
  set_option(SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF");
}
void Socket::set_v6_only(bool on) { set_option(IPPROTO_IPV6, IPV6_V6ONLY, on, "IPV6_V6ONLY"); }

void Socket::bind_to_device(const std::string& device) {
  if (device.size() >= IFNAMSIZ) throw Error("interface name '" + device + "' is too long");
  if (::setsockopt(fd_, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(),
                   static_cast<socklen_t>(device.size())) < 0)
    throw Error(socket_error("bind to device", errno) + " ('" + device + "')");
}

void Socket::set_linger_zero() {
  linger l{1, 0};
  if (::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0)
    throw Error(socket_error("SO_LINGER", errno));
}

inet::Endpoint Socket::local_endpoint() const {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    throw Error(socket_error("getsockname", errno));
  auto e = inet::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
  return e ? *e : inet::Endpoint{};
}

inet::Endpoint Socket::peer_endpoint() const {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    throw Error(socket_error("getpeername", errno));
  auto e = inet::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
  return e ? *e : inet::Endpoint{};
}

int Socket::pending_error() const noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

}  // namespace duplex
