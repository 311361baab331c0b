#include "duplex/link/interface.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"
#include "duplex/link/internal/netlink.h"
#include "duplex/link/internal/rtnetlink_parse.h"

namespace duplex::link {
namespace {

using internal::Attributes;
using internal::Netlink;
using internal::payload;

void check(int err, std::string_view what) {
  if (err != 0) throw Error(std::string(what) + ": " + std::strerror(err));
}

inet::Address ipv4_of(std::span<const std::uint8_t> b) {
  if (b.size() != 4) return {};
  return inet::Address::v4((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                           (std::uint32_t{b[2]} << 8) | b[3]);
}

}  // namespace

std::optional<Interface> internal::interface_of(const nlmsghdr* m) {
  const auto* ifi = m->nlmsg_type == RTM_NEWLINK ? payload<ifinfomsg>(m) : nullptr;
  if (!ifi) return std::nullopt;
  Attributes a(m, sizeof(ifinfomsg));
  Interface i;
  i.index = static_cast<unsigned>(ifi->ifi_index);
  i.name = std::string(a.text(IFLA_IFNAME));
  i.up = (ifi->ifi_flags & IFF_UP) != 0;
  i.loopback = (ifi->ifi_flags & IFF_LOOPBACK) != 0;
  i.arp = (ifi->ifi_flags & IFF_NOARP) == 0;
  if (auto lladdr = a.bytes(IFLA_ADDRESS); lladdr.size() == 6) {
    MacAddress::Bytes b{};
    std::copy(lladdr.begin(), lladdr.end(), b.begin());
    i.mac = MacAddress(b);
  }
  return i;
}

std::optional<internal::Route> internal::route_of(const nlmsghdr* m) {
  const auto* rt = m->nlmsg_type == RTM_NEWROUTE ? payload<rtmsg>(m) : nullptr;
  if (!rt) return std::nullopt;
  Attributes a(m, sizeof(rtmsg));
  Route r;
  r.type = rt->rtm_type;
  r.oif = a.u32(RTA_OIF);
  r.multipath = a.get(RTA_MULTIPATH) != nullptr;
  if (auto g = a.bytes(RTA_GATEWAY); g.size() == 4) {
    r.gateway = ipv4_of(g);
  } else if (g.size() == 16) {
    std::array<std::uint8_t, 16> b{};
    std::copy(g.begin(), g.end(), b.begin());
    r.gateway = inet::Address::v6(b);
  }
  return r;
}

std::optional<inet::Address> Interface::source_for(const inet::Address& peer) const {
  for (const auto& p : ipv4)
    if (p.contains(peer)) return p.address();
  if (ipv4.empty()) return std::nullopt;
  return ipv4.front().address();
}

bool Interface::on_link(const inet::Address& ip) const {
  return std::any_of(ipv4.begin(), ipv4.end(), [&](const auto& p) { return p.contains(ip); });
}

std::vector<Interface> Interface::all() {
  Netlink nl;
  std::vector<Interface> out;
  Netlink::Request links(RTM_GETLINK, NLM_F_DUMP);
  links.put<ifinfomsg>()->ifi_family = AF_UNSPEC;
  check(nl.transact(links,
                    [&](const nlmsghdr* m) {
                      if (auto i = internal::interface_of(m)) out.push_back(std::move(*i));
                    }),
        "cannot list the network interfaces");
  Netlink::Request addrs(RTM_GETADDR, NLM_F_DUMP);
  addrs.put<ifaddrmsg>()->ifa_family = AF_INET;
  check(nl.transact(addrs,
                    [&](const nlmsghdr* m) {
                      if (m->nlmsg_type != RTM_NEWADDR) return;
                      const auto* ifa = payload<ifaddrmsg>(m);
                      if (!ifa || ifa->ifa_family != AF_INET) return;
                      Attributes a(m, sizeof(ifaddrmsg));
                      // IFA_LOCAL is our address; IFA_ADDRESS is the peer's on a
                      // point-to-point link, and ours otherwise.
                      auto local = a.bytes(IFA_LOCAL);
                      if (local.empty()) local = a.bytes(IFA_ADDRESS);
                      if (local.size() != 4) return;
                      for (auto& i : out)
                        if (i.index == ifa->ifa_index)
                          i.ipv4.emplace_back(ipv4_of(local), ifa->ifa_prefixlen);
                    }),
        "cannot list the interface addresses");
  return out;
}

Interface Interface::by_name(std::string_view name) {
  for (auto& i : all())
    if (i.name == name) return i;
  throw Error("no interface named " + quote(name) + "; see `ip link`");
}

Interface Interface::by_index(unsigned index) {
  for (auto& i : all())
    if (i.index == index) return i;
  throw Error("no interface with index " + std::to_string(index) + "; see `ip link`");
}

Interface route_interface(const inet::Address& ip) {
  const auto interfaces = Interface::all();
  std::vector<std::string> holders;
  for (const auto& i : interfaces)
    if (i.up && !i.loopback && i.on_link(ip)) holders.push_back(i.name);
  if (holders.size() > 1) {
    std::string names;
    for (const auto& n : holders) names += (names.empty() ? "" : ", ") + n;
    throw Error("the interface for " + ip.to_string() + " is ambiguous: " + names +
                " all have a subnet that holds it; choose one with --dev");
  }

  Netlink nl;
  Netlink::Request req(RTM_GETROUTE, 0);
  auto* rt = req.put<rtmsg>();
  rt->rtm_family = ip.is_v4() ? AF_INET : AF_INET6;
  rt->rtm_dst_len = ip.is_v4() ? 32 : 128;
  req.attr(RTA_DST, std::span<const std::uint8_t>(ip.data(), ip.is_v4() ? 4 : 16));
  bool found = false, multipath = false;
  unsigned oif = 0;
  std::uint8_t type = 0;
  std::optional<inet::Address> gateway;
  const int err = nl.transact(req, [&](const nlmsghdr* m) {
    const auto route = internal::route_of(m);
    if (!route) return;
    found = true;
    type = route->type;
    oif = route->oif;
    multipath = route->multipath;
    gateway = route->gateway;
  });
  if (err == ENETUNREACH || err == EHOSTUNREACH || (err == 0 && !found))
    throw Error("no route to " + ip.to_string() + "; choose the interface with --dev");
  check(err, "cannot look up the route to " + ip.to_string());
  if (type == RTN_LOCAL)
    throw Error(ip.to_string() + " is an address of this host; to ask the link whether another " +
                "host holds it too, use --dad with --dev");
  if (multipath)
    throw Error("the route to " + ip.to_string() +
                " has several next hops, so the interface is ambiguous; choose one with --dev");
  const Interface out = Interface::by_index(oif);
  if (gateway)
    throw Error(ip.to_string() + " is not on a local link: its route goes via " +
                gateway->to_string() + " dev " + out.name +
                "; ARP and NDP reach on-link hosts only (pass --dev to ask on that link anyway)");
  return out;
}

}  // namespace duplex::link
