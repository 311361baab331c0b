// Internal to link/. The rtnetlink replies read into values: pure functions of the message
// bytes, with no socket, so that tests/fuzz/rtnetlink_fuzz.cc reaches them. Each returns
// nullopt for a message of another type, of another family, or too short for its header.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>

#include "duplex/inet/address.h"
#include "duplex/link/interface.h"
#include "duplex/link/neighbour_table.h"

namespace duplex::link::internal {

// RTM_NEWNEIGH (ARP or NDP); `dev` is left empty: naming the interface asks the kernel.
std::optional<Neighbour> neighbour_of(const nlmsghdr* message);

// RTM_NEWLINK: index, name, MAC and flags; no addresses (RTM_NEWADDR brings those).
std::optional<Interface> interface_of(const nlmsghdr* message);

// RTM_NEWROUTE: what route_interface() needs of the answer to RTM_GETROUTE.
struct Route {
  std::uint8_t type = 0;  // RTN_UNICAST, RTN_LOCAL...
  unsigned oif = 0;
  bool multipath = false;
  std::optional<inet::Address> gateway;  // IPv4 only
};
std::optional<Route> route_of(const nlmsghdr* message);

}  // namespace duplex::link::internal
