// Public. The host's network interfaces as the link layer needs them: index, name, MAC,
// IPv4 prefixes; and which interface the route to an address leaves by. Read from the
// kernel through rtnetlink (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE), not from /proc.
//
// The functions open their own netlink socket; safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "duplex/inet/address.h"
#include "duplex/inet/prefix.h"
#include "duplex/link/mac_address.h"

namespace duplex::link {

struct Interface {
  unsigned index = 0;
  std::string name;
  MacAddress mac;
  bool up = false;
  bool loopback = false;
  bool arp = true;                 // false when the interface runs without ARP (IFF_NOARP)
  std::vector<inet::Prefix> ipv4;  // the addresses it holds, with their prefix lengths

  // The IPv4 address to speak ARP from, for a peer at `peer`: the one whose subnet holds
  // `peer`, else the first; nullopt when the interface has no IPv4 address.
  std::optional<inet::Address> source_for(const inet::Address& peer) const;
  bool on_link(const inet::Address& ip) const;  // some prefix of ours holds ip

  // Every interface of this network namespace, by index.
  static std::vector<Interface> all();
  // Throws duplex::Error "no interface named 'eth9'; see `ip link`".
  static Interface by_name(std::string_view name);
  static Interface by_index(unsigned index);
};

// The interface by which `ip` (IPv4 or IPv6) is reached directly on the link (no gateway),
// for ARP and NDP.
// Throws duplex::Error, naming the fix (pass --dev), when there is no route, when the route
// goes through a gateway, when `ip` is one of our own addresses, or when the choice is
// ambiguous: more than one interface has a subnet holding `ip`, or a multipath route.
Interface route_interface(const inet::Address& ip);

}  // namespace duplex::link
