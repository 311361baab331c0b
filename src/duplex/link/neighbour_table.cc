#include "duplex/link/neighbour_table.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "duplex/base/error.h"
#include "duplex/link/internal/netlink.h"
#include "duplex/link/internal/rtnetlink_parse.h"

namespace duplex::link {
namespace {

using internal::Attributes;
using internal::Netlink;
using internal::payload;

std::string dev_name(unsigned ifindex) {
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(ifindex, name) == nullptr) return "if" + std::to_string(ifindex);
  return name;
}

[[noreturn]] void fail(int err, const std::string& what, const inet::Address& ip,
                       unsigned ifindex) {
  const std::string where = ip.to_string() + " on " + dev_name(ifindex);
  if (err == EPERM || err == EACCES)
    throw Error(what + " " + where +
                ": changing the neighbour table needs CAP_NET_ADMIN; run as root, or grant it "
                "with `sudo setcap cap_net_admin+ep $(command -v duplex)`");
  if (err == EEXIST)
    throw Error(what + " " + where + ": there is an entry already; use `duplex arp replace`");
  if (err == ENOENT || err == ESRCH)
    throw Error(what + " " + where + ": there is no such entry; see `duplex arp show`");
  if (err == ENODEV) throw Error(what + " " + where + ": no such interface; see `ip link`");
  throw Error(what + " " + where + ": " + std::strerror(err));
}

// Returns 0 or the errno the kernel answered with.
int change(std::uint16_t type, std::uint16_t flags, const inet::Address& ip, const MacAddress* mac,
           unsigned ifindex, std::uint16_t state) {
  Netlink nl;
  Netlink::Request req(type, flags);
  auto* nd = req.put<ndmsg>();
  nd->ndm_family = ip.is_v4() ? AF_INET : AF_INET6;
  nd->ndm_ifindex = static_cast<int>(ifindex);
  nd->ndm_state = state;
  req.attr(NDA_DST, std::span<const std::uint8_t>(ip.data(), ip.size()));
  if (mac) req.attr(NDA_LLADDR, mac->bytes());
  return nl.transact(req);
}

}  // namespace

std::optional<Neighbour> internal::neighbour_of(const nlmsghdr* m) {
  const auto* nd = m->nlmsg_type == RTM_NEWNEIGH ? payload<ndmsg>(m) : nullptr;
  if (!nd || (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6)) return std::nullopt;
  Attributes a(m, sizeof(ndmsg));
  const auto dst = a.bytes(NDA_DST);
  Neighbour n;
  if (nd->ndm_family == AF_INET && dst.size() == 4) {
    n.ip = inet::Address::v4((std::uint32_t{dst[0]} << 24) | (std::uint32_t{dst[1]} << 16) |
                             (std::uint32_t{dst[2]} << 8) | dst[3]);
  } else if (nd->ndm_family == AF_INET6 && dst.size() == 16) {
    std::array<std::uint8_t, 16> b{};
    std::copy(dst.begin(), dst.end(), b.begin());
    n.ip = inet::Address::v6(b);
  } else {
    return std::nullopt;
  }
  if (auto ll = a.bytes(NDA_LLADDR); ll.size() == 6) {
    MacAddress::Bytes b{};
    std::copy(ll.begin(), ll.end(), b.begin());
    n.mac = MacAddress(b);
  }
  n.ifindex = static_cast<unsigned>(nd->ndm_ifindex);
  n.state = nd->ndm_state;
  n.flags = nd->ndm_flags;
  return n;
}

std::vector<std::string_view> Neighbour::state_names() const {
  static constexpr std::pair<std::uint16_t, std::string_view> kNames[] = {
      {NUD_INCOMPLETE, "INCOMPLETE"}, {NUD_REACHABLE, "REACHABLE"}, {NUD_STALE, "STALE"},
      {NUD_DELAY, "DELAY"},           {NUD_PROBE, "PROBE"},         {NUD_FAILED, "FAILED"},
      {NUD_NOARP, "NOARP"},           {NUD_PERMANENT, "PERMANENT"}};
  std::vector<std::string_view> out;
  for (const auto& [bit, name] : kNames)
    if (state & bit) out.push_back(name);
  if (out.empty()) out.push_back("NONE");
  return out;
}

std::vector<std::string_view> Neighbour::flag_names() const {
  static constexpr std::pair<std::uint8_t, std::string_view> kNames[] = {
      {NTF_ROUTER, "router"},
      {NTF_PROXY, "proxy"},
      {NTF_EXT_LEARNED, "extern_learn"},
      {NTF_OFFLOADED, "offload"},
      {NTF_SELF, "self"},
      {NTF_MASTER, "master"},
      {NTF_USE, "use"}};
  std::vector<std::string_view> out;
  for (const auto& [bit, name] : kNames)
    if (flags & bit) out.push_back(name);
  return out;
}

bool Neighbour::is_router() const noexcept { return (flags & NTF_ROUTER) != 0; }

std::vector<Neighbour> NeighbourTable::list(std::optional<unsigned> ifindex) {
  Netlink nl;
  Netlink::Request req(RTM_GETNEIGH, NLM_F_DUMP);
  req.put<ndmsg>()->ndm_family = AF_UNSPEC;  // ARP and NDP both
  std::vector<Neighbour> out;
  const int err = nl.transact(req, [&](const nlmsghdr* m) {
    auto n = internal::neighbour_of(m);
    if (!n || (ifindex && *ifindex != n->ifindex)) return;
    n->dev = dev_name(n->ifindex);
    out.push_back(std::move(*n));
  });
  if (err != 0) throw Error(std::string("cannot read the neighbour table: ") + std::strerror(err));
  std::sort(out.begin(), out.end(), [](const Neighbour& a, const Neighbour& b) {
    return std::tie(a.ifindex, a.ip) < std::tie(b.ifindex, b.ip);
  });
  return out;
}

void NeighbourTable::add(const inet::Address& ip, const MacAddress& mac, unsigned ifindex,
                         bool permanent) {
  if (int err = change(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, ip, &mac, ifindex,
                       permanent ? NUD_PERMANENT : NUD_REACHABLE))
    fail(err, "cannot add", ip, ifindex);
}

void NeighbourTable::replace(const inet::Address& ip, const MacAddress& mac, unsigned ifindex,
                             bool permanent) {
  if (int err = change(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ip, &mac, ifindex,
                       permanent ? NUD_PERMANENT : NUD_REACHABLE))
    fail(err, "cannot replace", ip, ifindex);
}

void NeighbourTable::remove(const inet::Address& ip, unsigned ifindex) {
  if (int err = change(RTM_DELNEIGH, 0, ip, nullptr, ifindex, 0))
    fail(err, "cannot delete", ip, ifindex);
}

std::size_t NeighbourTable::flush(unsigned ifindex, bool include_permanent) {
  std::size_t n = 0;
  for (const auto& entry : list(ifindex)) {
    const bool keep =
        (entry.state & NUD_NOARP) || (!include_permanent && (entry.state & NUD_PERMANENT));
    if (keep) continue;
    const int err = change(RTM_DELNEIGH, 0, entry.ip, nullptr, ifindex, 0);
    // An entry the kernel garbage-collected meanwhile is gone, which is what flush wants.
    if (err == ENOENT) continue;
    if (err != 0) fail(err, "cannot flush", entry.ip, ifindex);
    ++n;
  }
  return n;
}

}  // namespace duplex::link
