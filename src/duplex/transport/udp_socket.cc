#include "duplex/transport/udp_socket.h"

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex {

namespace {
void set_int(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) < 0)
    throw Error(socket_error(what, errno));
}
}  // namespace

unsigned interface_index(const std::string& name) {
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) throw Error("no network interface '" + name + "' (see `ip -brief link`)");
  return index;
}

UdpSocket::UdpSocket(EventLoop* loop, const inet::Endpoint& local, UdpOptions options)
    : loop_(loop), socket_(Socket::udp(local)), options_(options), channel_(loop, socket_.fd()) {
  if (options_.batch == 0) options_.batch = 1;
  if (options_.reuse_addr) socket_.set_reuse_addr(true);
  if (options_.reuse_port) socket_.set_reuse_port(true);
  if (!local.address().is_v4()) socket_.set_v6_only(options_.v6_only);
  socket_.bind(local);
  local_ = socket_.local_endpoint();
  channel_.on_read([this] { handle_read(); });
  channel_.on_error([this] { handle_error(socket_.pending_error()); });
}

UdpSocket::~UdpSocket() { channel_.remove(); }

void UdpSocket::start_reading(DatagramsCallback cb) {
  loop_->assert_in_loop_thread();
  cb_ = std::move(cb);
  if (!storage_) {
    const std::size_t n = options_.batch;
    storage_ = std::make_unique<char[]>(n * options_.max_datagram);
    msgs_.resize(n);
    iov_.resize(n);
    addrs_.resize(n);
    batch_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      iov_[i].iov_base = storage_.get() + i * options_.max_datagram;
      iov_[i].iov_len = options_.max_datagram;
    }
  }
  channel_.enable_reading();
}

void UdpSocket::stop_reading() {
  loop_->assert_in_loop_thread();
  channel_.disable_reading();
}

void UdpSocket::handle_read() {
  // One recvmmsg per wake-up (at most `batch` datagrams): fair to the loop's other fds.
  const std::size_t n = msgs_.size();
  for (std::size_t i = 0; i < n; ++i) {
    msgs_[i].msg_hdr = msghdr{};
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &addrs_[i];
    msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  const int got =
      ::recvmmsg(socket_.fd(), msgs_.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    return handle_error(errno);  // an ICMP error from an earlier send (ECONNREFUSED)
  if (got <= 0) return;
  batch_.clear();
  for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
    Datagram d;
    d.data = std::string_view(static_cast<const char*>(iov_[i].iov_base), msgs_[i].msg_len);
    d.truncated = (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    if (auto e = inet::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&addrs_[i]),
                                               msgs_[i].msg_hdr.msg_namelen))
      d.peer = *e;
    if (d.truncated) ++truncated_;
    batch_.push_back(d);
  }
  received_ += static_cast<std::uint64_t>(got);
  if (cb_) cb_(batch_);
}

void UdpSocket::handle_error(int err) {
  if (err != 0 && error_cb_) error_cb_(err);
}

int UdpSocket::send_to(std::string_view data, const inet::Endpoint& peer) noexcept {
  sockaddr_storage ss;
  const socklen_t len = peer.to_sockaddr(ss);
  const ssize_t n = ::sendto(socket_.fd(), data.data(), data.size(), MSG_DONTWAIT,
                             reinterpret_cast<const sockaddr*>(&ss), len);
  return n < 0 ? errno : 0;
}

std::size_t UdpSocket::send_batch(std::span<const Datagram> datagrams, int* err) noexcept {
  std::size_t sent = 0;
  constexpr std::size_t kChunk = 64;  // stack arrays: no allocation on this path
  while (sent < datagrams.size()) {
    const std::size_t n = std::min(kChunk, datagrams.size() - sent);
    mmsghdr msgs[kChunk];
    iovec iov[kChunk];
    sockaddr_storage addrs[kChunk];
    for (std::size_t i = 0; i < n; ++i) {
      const Datagram& d = datagrams[sent + i];
      iov[i].iov_base = const_cast<char*>(d.data.data());
      iov[i].iov_len = d.data.size();
      msgs[i].msg_hdr = msghdr{};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = d.peer.to_sockaddr(addrs[i]);
    }
    const int rc = ::sendmmsg(socket_.fd(), msgs, static_cast<unsigned>(n), MSG_DONTWAIT);
    if (rc < 0) {
      if (err) *err = errno;
      return sent;
    }
    sent += static_cast<std::size_t>(rc);
    if (static_cast<std::size_t>(rc) < n) {
      if (err) *err = EAGAIN;
      return sent;
    }
  }
  if (err) *err = 0;
  return sent;
}

void UdpSocket::connect(const inet::Endpoint& peer) {
  const int err = socket_.connect(peer);
  if (err != 0) throw Error(socket_error("connect", err, &peer));
}

int UdpSocket::send(std::string_view data) noexcept {
  const ssize_t n = ::send(socket_.fd(), data.data(), data.size(), MSG_DONTWAIT);
  return n < 0 ? errno : 0;
}

void UdpSocket::set_broadcast(bool on) {
  set_int(socket_.fd(), SOL_SOCKET, SO_BROADCAST, on, "SO_BROADCAST");
}

void UdpSocket::group_op(const inet::Address& group, unsigned interface_index, bool join) {
  if (!group.is_multicast())
    throw Error(group.to_string() + " is not a multicast group (224.0.0.0/4 or ff00::/8)");
  if (group.is_v4() != is_v4())
    throw Error("group " + group.to_string() + " is of the other IP version than the socket (" +
                local_.to_string() + ")");
  int rc;
  if (group.is_v4()) {
    ip_mreqn req{};
    sockaddr_storage ss;
    inet::Endpoint(group, 0).to_sockaddr(ss);
    req.imr_multiaddr = reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr;
    req.imr_address.s_addr = htonl(INADDR_ANY);
    req.imr_ifindex = static_cast<int>(interface_index);
    rc = ::setsockopt(socket_.fd(), IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &req,
                      sizeof req);
  } else {
    ipv6_mreq req{};
    sockaddr_storage ss;
    inet::Endpoint(group, 0).to_sockaddr(ss);
    req.ipv6mr_multiaddr = reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr;
    req.ipv6mr_interface = interface_index;
    rc = ::setsockopt(socket_.fd(), IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &req,
                      sizeof req);
  }
  if (rc < 0) {
    const int err = errno;
    std::string msg =
        socket_error(join ? "join group" : "leave group", err) + " (" + group.to_string() + ")";
    if (err == ENODEV || err == EADDRNOTAVAIL)
      msg += ": the interface is down, has no multicast, or has no route for the group";
    throw Error(msg);
  }
}

void UdpSocket::join_group(const inet::Address& group, unsigned interface_index) {
  group_op(group, interface_index, true);
}

void UdpSocket::leave_group(const inet::Address& group, unsigned interface_index) {
  group_op(group, interface_index, false);
}

void UdpSocket::set_multicast_ttl(int ttl) {
  if (is_v4()) {
    set_int(socket_.fd(), IPPROTO_IP, IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL");
  } else {
    set_int(socket_.fd(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ttl, "IPV6_MULTICAST_HOPS");
  }
}

void UdpSocket::set_multicast_loop(bool on) {
  if (is_v4()) {
    set_int(socket_.fd(), IPPROTO_IP, IP_MULTICAST_LOOP, on, "IP_MULTICAST_LOOP");
  } else {
    set_int(socket_.fd(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, on, "IPV6_MULTICAST_LOOP");
  }
}

void UdpSocket::set_multicast_interface(unsigned interface_index) {
  if (is_v4()) {
    ip_mreqn req{};
    req.imr_ifindex = static_cast<int>(interface_index);
    if (::setsockopt(socket_.fd(), IPPROTO_IP, IP_MULTICAST_IF, &req, sizeof req) < 0)
      throw Error(socket_error("IP_MULTICAST_IF", errno));
  } else {
    set_int(socket_.fd(), IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(interface_index),
            "IPV6_MULTICAST_IF");
  }
}

}  // namespace duplex
