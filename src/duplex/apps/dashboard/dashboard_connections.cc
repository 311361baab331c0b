// The Connections table of `duplex serve`'s dashboard: what TCP_INFO, the interface
// addresses and the neighbour table say about each peer.
#include <ifaddrs.h>
#include <netinet/in.h>

#include <fstream>
#include <optional>
#include <string>

#include "duplex/apps/dashboard/dashboard_internal.h"
#include "duplex/apps/report/address_json.h"
#include "duplex/inet/endpoint.h"
#include "duplex/inet/prefix.h"
#include "duplex/link/neighbour_table.h"

namespace duplex::apps::dashboard {
namespace {

using inet::Address;
using inet::Prefix;
using Json = nlohmann::json;

// One address of this host with its prefix length, as getifaddrs() lists it (IPv4 and
// IPv6; link::Interface knows IPv4 only).
struct LocalAddress {
  std::string interface;
  Address address;
  unsigned length = 0;
};

std::optional<Address> address_of(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  const socklen_t len = sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  const auto e = inet::Endpoint::from_sockaddr(sa, len);
  if (!e) return std::nullopt;
  return e->address();
}

std::vector<LocalAddress> local_addresses() {
  std::vector<LocalAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    const auto a = address_of(i->ifa_addr);
    const auto m = address_of(i->ifa_netmask);
    if (!a || !m || a->family() != m->family()) continue;
    const auto len = Prefix::mask_length(*m);
    if (len) out.push_back({i->ifa_name, *a, *len});
  }
  ::freeifaddrs(list);
  return out;
}

// Dual-stack sockets show IPv4 peers as ::ffff:a.b.c.d; the subnet maths wants IPv4.
Address plain(const Address& a) { return a.is_v4_mapped() ? a.unmapped() : a; }

std::string and_text(const Address& a, const Address& mask) {
  return a.to_string() + " AND " + mask.to_string() + " = " + (a & mask).to_string();
}

Json subnet_json(const LocalAddress& l, const Address& local, const Address& peer) {
  const Address mask = Prefix::mask_of(l.address.family(), l.length);
  return {{"interface", l.interface},
          {"prefix", Prefix(l.address, l.length).masked().to_string()},
          {"mask", mask.to_string()},
          {"local_and", and_text(local, mask)},
          {"peer_and", and_text(peer, mask)}};
}

bool holds(const LocalAddress& l, const Address& ip) {
  if (l.address.family() != ip.family()) return false;
  const Address mask = Prefix::mask_of(ip.family(), l.length);
  return (l.address & mask) == (ip & mask);
}

// The neighbour table, read once per request and only when some peer needs it.
class Neighbours {
 public:
  const link::Neighbour* find(const Address& ip, const std::string& dev) {
    if (!entries_) {
      try {
        entries_ = link::NeighbourTable::list();
      } catch (const Error&) {
        entries_.emplace();
      }
    }
    const link::Neighbour* any = nullptr;
    for (const auto& n : *entries_) {
      if (n.ip != ip) continue;
      if (n.dev == dev) return &n;
      if (any == nullptr) any = &n;
    }
    return any;
  }

 private:
  std::optional<std::vector<link::Neighbour>> entries_;
};

Json null_if_empty(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json connection_json(const ConnectionSnapshot& c, const std::vector<LocalAddress>& locals,
                     Neighbours& neighbours) {
  Json j;
  j["id"] = c.id;
  j["protocol"] = c.protocol;
  j["local"] = c.local.to_string();
  j["remote"] = c.peer.to_string();
  j["local_ip"] = c.local.address().to_string();
  j["local_port"] = c.local.port();
  j["remote_ip"] = c.peer.address().to_string();
  j["remote_port"] = c.peer.port();
  j["bytes_in"] = c.bytes_in;
  j["bytes_out"] = c.bytes_out;
  j["age_s"] = c.age_s;
  j["rtt_us"] = c.tcp ? Json(c.tcp->rtt_us) : Json(nullptr);
  j["rttvar_us"] = c.tcp ? Json(c.tcp->rttvar_us) : Json(nullptr);
  j["cwnd"] = c.tcp ? Json(c.tcp->cwnd_segments) : Json(nullptr);
  j["retransmits"] = c.tcp ? Json(c.tcp->retransmits) : Json(nullptr);
  j["chat_name"] = null_if_empty(c.chat_name);
  j["chat_room"] = null_if_empty(c.chat_room);

  const Address local = plain(c.local.address());
  const Address peer = plain(c.peer.address());
  // The subnet: the interface address the peer connected to, if its prefix holds the peer;
  // else any of this host's prefixes that holds it; else the connected one, to show the
  // AND that differs.
  const LocalAddress* connected = nullptr;
  const LocalAddress* holder = nullptr;
  bool own = false;  // the peer is one of this host's addresses
  for (const auto& l : locals) {
    if (l.address == local && connected == nullptr) connected = &l;
    if (l.address == peer) own = true;
    if (holds(l, peer) && (holder == nullptr || l.address == local)) holder = &l;
  }
  const LocalAddress* shown = holder != nullptr ? holder : connected;
  j["same_subnet"] = holder != nullptr;

  Json mac = nullptr, vendor = nullptr;
  std::string note;
  if (peer.is_loopback()) {
    note = "loopback: the peer is this host, no link-layer address";
  } else if (own) {
    note = "the peer is this host (one of its own addresses): no link-layer address";
  } else if (holder == nullptr) {
    note =
        "not on a local subnet: the peer is reached through a router, so no MAC of its own "
        "is seen here";
  } else if (const auto* n = neighbours.find(peer, holder->interface); n == nullptr) {
    note = "not in the neighbour table: the kernel has not resolved it (or the entry expired)";
  } else if (!n->mac) {
    std::string state;
    for (auto s : n->state_names()) state += (state.empty() ? "" : ",") + std::string(s);
    note = "the neighbour entry is " + state + ", without a MAC yet";
  } else {
    mac = n->mac->to_string();
    vendor = station_vendor_json(*n->mac);
    if (vendor.is_null())
      note = n->mac->is_local()
                 ? "no vendor: a locally administered MAC (often randomised by the device)"
                 : "no vendor: the IEEE registry lists no block holding this MAC";
  }
  j["mac"] = mac;
  j["vendor"] = vendor;
  j["mac_note"] = note.empty() ? Json(nullptr) : Json(note);
  j["subnet"] = shown != nullptr && shown->address.family() == peer.family()
                    ? subnet_json(*shown, local, peer)
                    : Json(nullptr);
  return j;
}

}  // namespace

Json connections_json(const std::vector<ConnectionSnapshot>& snapshots) {
  const auto locals = local_addresses();
  Neighbours neighbours;
  Json list = Json::array();
  for (const auto& c : snapshots) list.push_back(connection_json(c, locals, neighbours));
  return {{"count", snapshots.size()}, {"connections", std::move(list)}};
}

bool has_capability(unsigned bit) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    try {
      const unsigned long long bits = std::stoull(line.substr(7), nullptr, 16);
      return ((bits >> bit) & 1U) != 0;
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

bool refuse_without_token(const std::function<bool(const http::Request&)>& has_token,
                          const http::Request& req, http::Response& res, std::string_view what,
                          std::string_view also) {
  if (has_token && has_token(req)) return false;
  http::send_json_error(res, 401,
                        std::string(what) +
                            " the token, on loopback too: open the dashboard with the URL "
                            "duplex serve printed at start (http://HOST:PORT/?token=...)" +
                            std::string(also));
  res.set("WWW-Authenticate", "Bearer realm=\"duplex\"");
  return true;
}

}  // namespace duplex::apps::dashboard
