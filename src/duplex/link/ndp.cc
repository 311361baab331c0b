#include "duplex/link/ndp.h"

#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "duplex/base/error.h"

namespace duplex::link {
namespace {

using Clock = NdpLink::Clock;
constexpr std::uint16_t kIpv6 = kEthertypeIpv6;
constexpr std::uint32_t kEthernetHeader = 14;

// Whether /proc/net/if_inet6 marks `a` on interface `ifindex` tentative (DAD not done: the
// kernel would not answer from it, and the peer's answer would not reach it).
bool tentative(const inet::Address& a, unsigned ifindex) {
  std::ifstream in("/proc/net/if_inet6");
  std::string hex, name;
  unsigned index = 0, length = 0, scope = 0, flags = 0;
  while (in >> hex >> std::hex >> index >> length >> scope >> flags >> std::dec >> name) {
    if (index != ifindex || hex.size() != 32) continue;
    std::array<std::uint8_t, 16> b{};
    for (std::size_t i = 0; i < 16; ++i)
      b[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    if (inet::Address::v6(b) == a) return (flags & 0x40) != 0;  // IFA_F_TENTATIVE
  }
  return false;
}

}  // namespace

MacAddress multicast_mac(const inet::Address& group) noexcept {
  const std::uint8_t* a = group.data();
  return MacAddress(MacAddress::Bytes{0x33, 0x33, a[12], a[13], a[14], a[15]});
}

std::optional<NdpFrame> decode_ndp_frame(std::span<const std::uint8_t> frame) noexcept {
  if (frame.size() < kEthernetHeader || frame[12] != (kIpv6 >> 8) || frame[13] != (kIpv6 & 0xff))
    return std::nullopt;
  auto message = inet::decode_ndp(frame.subspan(kEthernetHeader));
  if (!message) return std::nullopt;
  MacAddress::Bytes source{};
  std::copy_n(frame.begin() + 6, 6, source.begin());
  return NdpFrame{*message, MacAddress(source)};
}

void attach_ndp_filter(PacketSocket& socket) {
  // ldh [12]; jeq 0x86dd; ldb [20] (next header); jeq 58; ldb [54] (ICMPv6 type);
  // jge 133; jgt 136 -> drop; accept.
  static sock_filter code[] = {
      {0x28, 0, 0, 12},  {0x15, 0, 6, kIpv6},  {0x30, 0, 0, 20},
      {0x15, 0, 4, 58},  {0x30, 0, 0, 54},     {0x35, 0, 2, 133},
      {0x25, 1, 0, 136}, {0x06, 0, 0, 0xffff}, {0x06, 0, 0, 0},
  };
  const sock_fprog program{static_cast<unsigned short>(std::size(code)), code};
  if (::setsockopt(socket.fd(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0)
    throw Error(std::string("cannot filter a packet socket for NDP: ") + std::strerror(errno));
  // Frames queued before the filter was in place: drop them unread.
  std::array<std::uint8_t, 64> scratch{};
  while (socket.receive(scratch)) {
  }
}

NdpLink::NdpLink(Interface interface)
    : interface_(std::move(interface)), socket_(interface_.index, kIpv6) {
  attach_ndp_filter(socket_);
}

std::optional<inet::Address> NdpLink::link_local() const {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> owner(list, ::freeifaddrs);
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET6) continue;
    if (interface_.name != i->ifa_name) continue;
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
    std::array<std::uint8_t, 16> b{};
    std::memcpy(b.data(), &in6->sin6_addr, 16);
    const auto a = inet::Address::v6(b);
    if (a.is_link_local() && !tentative(a, interface_.index)) return a;
  }
  return std::nullopt;
}

void NdpLink::join(const inet::Address& group) {
  packet_mreq m{};
  m.mr_ifindex = static_cast<int>(interface_.index);
  m.mr_type = PACKET_MR_MULTICAST;
  m.mr_alen = 6;
  const auto mac = multicast_mac(group);
  std::memcpy(m.mr_address, mac.bytes().data(), 6);
  if (::setsockopt(socket_.fd(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &m, sizeof m) != 0)
    throw Error("cannot join " + group.to_string() + " on " + interface_.name + ": " +
                std::strerror(errno));
}

void NdpLink::send(std::span<const std::uint8_t> packet, const inet::Address& destination) {
  std::vector<std::uint8_t> frame(kEthernetHeader + packet.size());
  const auto to = multicast_mac(destination);  // NDP here only ever sends to groups
  std::memcpy(frame.data(), to.bytes().data(), 6);
  std::memcpy(frame.data() + 6, interface_.mac.bytes().data(), 6);
  frame[12] = kIpv6 >> 8;
  frame[13] = kIpv6 & 0xff;
  std::memcpy(frame.data() + kEthernetHeader, packet.data(), packet.size());
  if (const int err = socket_.send(frame); err != 0)
    throw Error("cannot send a neighbour discovery frame on " + interface_.name + ": " +
                std::strerror(err));
}

std::optional<NdpLink::Received> NdpLink::receive(Clock::time_point until,
                                                  const std::function<bool()>& stop) {
  while (true) {
    while (auto got = socket_.receive(buffer_)) {
      if (got->outgoing) continue;
      auto f = decode_ndp_frame(std::span<const std::uint8_t>(buffer_.data(), got->size));
      if (f) return Received{f->message, f->ethernet_source, Clock::now()};
    }
    if (stop && stop()) return std::nullopt;
    const auto now = Clock::now();
    if (now >= until) return std::nullopt;
    socket_.wait(until - now);
  }
}

}  // namespace duplex::link
