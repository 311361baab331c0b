// Public. A UDP socket on an EventLoop: datagrams with their peer's endpoint, received and
// sent in batches (recvmmsg/sendmmsg: one system call for many datagrams), broadcast,
// multicast groups (IPv4 and IPv6) and connected UDP.
//
// Loop thread only, except send_to()/send(), which are plain system calls and safe from any
// thread. Receive buffers are allocated when reading starts (batch x max_datagram bytes).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/inet/endpoint.h"
#include "duplex/reactor/channel.h"
#include "duplex/transport/socket.h"

namespace duplex {

class EventLoop;

struct Datagram {
  std::string_view data;
  inet::Endpoint peer;
  // The datagram did not fit in max_datagram bytes and was cut.
  bool truncated = false;
};

struct UdpOptions {
  bool reuse_addr = false;  // several sockets on one port (needed for broadcast receivers)
  bool reuse_port = false;  // SO_REUSEPORT: the kernel spreads unicast among them
  bool v6_only = false;
  std::size_t batch = 16;            // datagrams per recvmmsg
  std::size_t max_datagram = 65536;  // bytes kept of each
};

class UdpSocket {
 public:
  // Receives a batch; the views are valid only during the call.
  using DatagramsCallback = std::function<void(std::span<const Datagram>)>;

  // Binds to `local` (port 0: any). Throws duplex::Error ("address in use", ...).
  UdpSocket(EventLoop* loop, const inet::Endpoint& local, UdpOptions options = {});
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  const inet::Endpoint& local() const noexcept { return local_; }
  int fd() const noexcept { return socket_.fd(); }

  void start_reading(DatagramsCallback cb);
  void stop_reading();
  // An error the socket reports, such as ICMP port unreachable (ECONNREFUSED) after a send
  // on a connected socket. It is read and cleared either way, so that epoll does not spin.
  void on_error(std::function<void(int err)> cb) { error_cb_ = std::move(cb); }

  // Any thread. 0, or the errno (EAGAIN when the send buffer is full: the datagram is lost,
  // as UDP allows).
  int send_to(std::string_view data, const inet::Endpoint& peer) noexcept;
  // Any thread. Sends a batch with sendmmsg; returns how many went out (the first failure
  // stops the batch; *err then holds its errno).
  std::size_t send_batch(std::span<const Datagram> datagrams, int* err = nullptr) noexcept;

  // Connected UDP: only this peer's datagrams arrive, and send() needs no address.
  void connect(const inet::Endpoint& peer);
  int send(std::string_view data) noexcept;  // any thread; 0 or the errno

  void set_broadcast(bool on);
  // Joins `group` on the interface with this index (0: the kernel picks by route).
  void join_group(const inet::Address& group, unsigned interface_index = 0);
  void leave_group(const inet::Address& group, unsigned interface_index = 0);
  // Hops a multicast datagram may travel (IPv4 TTL, IPv6 hop limit); 1 stays on the link.
  void set_multicast_ttl(int ttl);
  // Whether our own multicast datagrams come back to this host's sockets.
  void set_multicast_loop(bool on);
  // The interface that multicast datagrams leave by.
  void set_multicast_interface(unsigned interface_index);

  // Datagrams received and cut short since creation.
  std::uint64_t datagrams_received() const noexcept { return received_; }
  std::uint64_t datagrams_truncated() const noexcept { return truncated_; }

 private:
  void handle_read();
  void handle_error(int err);
  void group_op(const inet::Address& group, unsigned interface_index, bool join);
  bool is_v4() const noexcept { return local_.address().is_v4(); }

  EventLoop* loop_;
  Socket socket_;
  inet::Endpoint local_;
  UdpOptions options_;
  Channel channel_;
  DatagramsCallback cb_;
  std::function<void(int)> error_cb_;
  // Receive state, allocated once by start_reading(): the hot path allocates nothing.
  std::unique_ptr<char[]> storage_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iov_;
  std::vector<sockaddr_storage> addrs_;
  std::vector<Datagram> batch_;
  std::uint64_t received_ = 0;
  std::uint64_t truncated_ = 0;
};

// The index of a network interface by name ("lo", "eth0"); throws naming the fix.
unsigned interface_index(const std::string& name);

}  // namespace duplex
