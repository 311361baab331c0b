// Internal to the link layer. A small rtnetlink client on libmnl: one request, its answers
// (a dump or an acknowledgement), and the attributes of each answer by type.
//
// Each object owns one NETLINK_ROUTE socket; use it from one thread at a time.
#pragma once

#include <linux/netlink.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

struct mnl_socket;
struct nlattr;

namespace duplex::link::internal {

// The attributes of one netlink message, indexed by type (nullptr when absent).
class Attributes {
 public:
  static constexpr std::size_t kMax = 64;
  // Reads the attributes that follow the fixed header of `header_size` bytes.
  Attributes(const nlmsghdr* message, std::size_t header_size);

  const nlattr* get(std::size_t type) const noexcept {
    return type < kMax ? attrs_[type] : nullptr;
  }
  std::span<const std::uint8_t> bytes(std::size_t type) const noexcept;
  std::string_view text(std::size_t type) const noexcept;  // without the NUL
  std::uint32_t u32(std::size_t type, std::uint32_t fallback = 0) const noexcept;

 private:
  std::array<const nlattr*, kMax> attrs_{};
};

class Netlink {
 public:
  Netlink();  // throws duplex::Error when the socket cannot be opened
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // A request buffer: a netlink header of `type` and `flags`, then the fixed header
  // (ndmsg, rtmsg...) that put() returns zeroed for the caller to fill.
  class Request {
   public:
    Request(std::uint16_t type, std::uint16_t flags);
    template <typename Header>
    Header* put() {
      return static_cast<Header*>(extra(sizeof(Header)));
    }
    void attr(std::uint16_t type, std::span<const std::uint8_t> data);
    void attr_u32(std::uint16_t type, std::uint32_t value);
    nlmsghdr* header() noexcept { return header_; }

   private:
    void* extra(std::size_t size);
    std::vector<std::uint8_t> buffer_;
    nlmsghdr* header_;
  };

  // Sends `request` and calls `on_message` for each answer until the dump ends or the
  // kernel acknowledges. Returns 0, or the errno the kernel answered with (EPERM, EEXIST...).
  int transact(Request& request, const std::function<void(const nlmsghdr*)>& on_message = {});

 private:
  mnl_socket* socket_ = nullptr;
  std::uint32_t port_ = 0;
  std::uint32_t seq_;
};

// The fixed header that follows a netlink message header.
// The fixed header (ndmsg, rtmsg...) after the netlink header, or nullptr when the message
// is too short to hold it: a reply is read only as far as it goes.
template <typename Header>
const Header* payload(const nlmsghdr* message) noexcept {
  if (message->nlmsg_len < NLMSG_HDRLEN + sizeof(Header)) return nullptr;
  return reinterpret_cast<const Header*>(reinterpret_cast<const std::uint8_t*>(message) +
                                         NLMSG_HDRLEN);
}

// Calls `on_message` for each message of `buffer`, as one recv() from the kernel brings them
// (the parsing half of transact(), without the socket). Stops at NLMSG_DONE, at NLMSG_ERROR
// (returning its errno; 0 for an acknowledgement) and at a malformed message (EPROTO).
int for_each_message(std::span<const std::uint8_t> buffer,
                     const std::function<void(const nlmsghdr*)>& on_message);

}  // namespace duplex::link::internal
