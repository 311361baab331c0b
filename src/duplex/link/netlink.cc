#include <libmnl/libmnl.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "duplex/base/error.h"
#include "duplex/link/internal/netlink.h"

namespace duplex::link::internal {
namespace {

int collect(const nlattr* attr, void* data) {
  auto* attrs = static_cast<std::array<const nlattr*, Attributes::kMax>*>(data);
  const auto type = mnl_attr_get_type(attr);
  if (type < Attributes::kMax) (*attrs)[type] = attr;
  return MNL_CB_OK;
}

struct Dispatch {
  const std::function<void(const nlmsghdr*)>* on_message;
};

int dispatch(const nlmsghdr* message, void* data) {
  auto* d = static_cast<Dispatch*>(data);
  if (d->on_message && *d->on_message) (*d->on_message)(message);
  return MNL_CB_OK;
}

}  // namespace

int for_each_message(std::span<const std::uint8_t> buffer,
                     const std::function<void(const nlmsghdr*)>& on_message) {
  // Not mnl_cb_run(): its length check casts nlmsg_len to int, so a length of 2^31 or more
  // passes and is read past the buffer, and one near 2^32 aligns (in 32 bits, as NLMSG_ALIGN
  // does too) to 0 and loops for ever; tests/fuzz/rtnetlink_fuzz.cc found it. Each message
  // must fit, padding included, its length aligned in 64 bits.
  std::size_t at = 0;
  while (buffer.size() - at >= sizeof(nlmsghdr)) {
    const auto* m = reinterpret_cast<const nlmsghdr*>(buffer.data() + at);
    const std::size_t aligned = (std::size_t{m->nlmsg_len} + 3) & ~std::size_t{3};
    if (m->nlmsg_len < sizeof(nlmsghdr) || aligned > buffer.size() - at) return EPROTO;
    if (m->nlmsg_type == NLMSG_DONE) return 0;
    if (m->nlmsg_type == NLMSG_ERROR) {
      const auto* e = payload<nlmsgerr>(m);
      if (!e) return EPROTO;
      const int error = e->error;
      if (error == 0) return 0;                             // an acknowledgement
      return error < 0 && error > -4096 ? -error : EPROTO;  // errno values are small
    }
    if (m->nlmsg_type >= NLMSG_MIN_TYPE && on_message) on_message(m);
    at += aligned;
  }
  return 0;
}

Attributes::Attributes(const nlmsghdr* message, std::size_t header_size) {
  mnl_attr_parse(message, static_cast<unsigned>(header_size), collect, &attrs_);
}

std::span<const std::uint8_t> Attributes::bytes(std::size_t type) const noexcept {
  const nlattr* a = get(type);
  if (!a) return {};
  return {static_cast<const std::uint8_t*>(mnl_attr_get_payload(a)), mnl_attr_get_payload_len(a)};
}

std::string_view Attributes::text(std::size_t type) const noexcept {
  auto b = bytes(type);
  std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  if (auto nul = s.find('\0'); nul != std::string_view::npos) s = s.substr(0, nul);
  return s;
}

std::uint32_t Attributes::u32(std::size_t type, std::uint32_t fallback) const noexcept {
  const nlattr* a = get(type);
  if (!a || mnl_attr_get_payload_len(a) < 4) return fallback;
  return mnl_attr_get_u32(a);
}

Netlink::Request::Request(std::uint16_t type, std::uint16_t flags) : buffer_(8192) {
  header_ = mnl_nlmsg_put_header(buffer_.data());
  header_->nlmsg_type = type;
  header_->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
}

void* Netlink::Request::extra(std::size_t size) {
  return mnl_nlmsg_put_extra_header(header_, size);
}

void Netlink::Request::attr(std::uint16_t type, std::span<const std::uint8_t> data) {
  mnl_attr_put(header_, type, data.size(), data.data());
}

void Netlink::Request::attr_u32(std::uint16_t type, std::uint32_t value) {
  mnl_attr_put_u32(header_, type, value);
}

Netlink::Netlink() : seq_(static_cast<std::uint32_t>(std::time(nullptr))) {
  socket_ = mnl_socket_open(NETLINK_ROUTE);
  if (!socket_) throw Error(std::string("cannot open a netlink socket: ") + std::strerror(errno));
  if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(socket_);
    throw Error(std::string("cannot bind a netlink socket: ") + std::strerror(err));
  }
  port_ = mnl_socket_get_portid(socket_);
}

Netlink::~Netlink() { mnl_socket_close(socket_); }

int Netlink::transact(Request& request, const std::function<void(const nlmsghdr*)>& on_message) {
  nlmsghdr* header = request.header();
  // Every request asks for an acknowledgement, so that a change that succeeds ends the
  // exchange as clearly as one that fails.
  header->nlmsg_flags = static_cast<std::uint16_t>(header->nlmsg_flags | NLM_F_ACK);
  header->nlmsg_seq = ++seq_;
  if (mnl_socket_sendto(socket_, header, header->nlmsg_len) < 0) return errno;
  std::vector<std::uint8_t> buffer(32768);
  Dispatch d{&on_message};
  while (true) {
    const auto n = mnl_socket_recvfrom(socket_, buffer.data(), buffer.size());
    if (n < 0) return errno;
    const int ret =
        mnl_cb_run(buffer.data(), static_cast<std::size_t>(n), seq_, port_, dispatch, &d);
    if (ret == MNL_CB_ERROR) return errno;
    if (ret == MNL_CB_STOP) return 0;
  }
}

}  // namespace duplex::link::internal
