// Public. A socket file descriptor that closes itself (RAII), with the options duplex uses.
//
// Setup calls (bind, listen, options) throw duplex::Error with the errno named and the fix
// ("bind [::]:80: EACCES (Permission denied): port 80 needs root or CAP_NET_BIND_SERVICE").
// Hot-path calls (accept, connect, shutdown) return -1/errno instead and never throw.
// A Socket is a value with one owner; use it from one thread at a time.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "duplex/inet/endpoint.h"

namespace duplex {

class Socket {
 public:
  Socket() noexcept = default;
  explicit Socket(int fd) noexcept : fd_(fd) {}
  ~Socket();
  Socket(Socket&& other) noexcept : fd_(other.release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // A non-blocking, close-on-exec TCP or UDP socket of the endpoint's family.
  static Socket tcp(const inet::Endpoint& like);
  static Socket udp(const inet::Endpoint& like);
  // A non-blocking, close-on-exec Unix-domain stream socket (AF_UNIX, SOCK_STREAM), for
  // bind_path()/connect_path(). Stream code (StreamRelay, TcpConnection) takes it as it is;
  // TCP options (TCP_NODELAY, TCP_INFO) do not apply to it.
  static Socket unix_stream();

  int fd() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  // Gives up ownership: the caller closes the fd.
  int release() noexcept;

  void bind(const inet::Endpoint& local);
  void listen(int backlog = SOMAXCONN);
  // A non-blocking, close-on-exec connection, or -1 with errno set. Fills *peer if given.
  int accept(inet::Endpoint* peer) noexcept;
  // 0, or the errno (EINPROGRESS for a connection under way).
  int connect(const inet::Endpoint& remote) noexcept;
  // AF_UNIX: binds to / connects to a filesystem path (at most 107 bytes: sun_path).
  // connect_path() returns 0 or the errno (EAGAIN: the listener's backlog is full).
  void bind_path(const std::string& path);
  int connect_path(const std::string& path) noexcept;
  // Sends FIN: the peer reads end-of-file, and this side can still read.
  void shutdown_write() noexcept;

  void set_reuse_addr(bool on);
  void set_reuse_port(bool on);
  void set_no_delay(bool on);
  void set_keep_alive(bool on);
  void set_send_buffer(int bytes);
  void set_receive_buffer(int bytes);
  // IPv6 sockets only: refuse IPv4-mapped peers, so an IPv4 socket can share the port.
  void set_v6_only(bool on);
  // SO_BINDTODEVICE: traffic only through this interface ("eth0").
  void bind_to_device(const std::string& device);
  // SO_LINGER with a zero timeout: close() then sends RST instead of FIN.
  void set_linger_zero();

  inet::Endpoint local_endpoint() const;
  inet::Endpoint peer_endpoint() const;
  // SO_ERROR: the error of a failed non-blocking connect or a broken connection; 0 if none.
  int pending_error() const noexcept;

 private:
  void set_option(int level, int name, int value, std::string_view what);

  int fd_ = -1;
};

// The address to bind a socket that connects to `peer` to: `local`, except that an
// unspecified address of the other family becomes the peer family's (nc -p: only the port
// was asked for).
inet::Endpoint local_for(const inet::Endpoint& local, const inet::Endpoint& peer) noexcept;

// "ECONNREFUSED (Connection refused)".
std::string errno_text(int err);

// One line for a failed socket call: what was done, the errno, and the fix where one is
// known: "connect 127.0.0.1:9: ECONNREFUSED (Connection refused): nothing listens there".
std::string socket_error(std::string_view op, int err, const inet::Endpoint* where = nullptr);

}  // namespace duplex
