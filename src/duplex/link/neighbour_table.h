// Public. The kernel's neighbour table (the ARP cache for IPv4, the NDP cache for IPv6)
// through rtnetlink: read it, add and replace static entries, delete, flush.
//
// Reading needs no privilege; changing needs CAP_NET_ADMIN, and the error says so and how
// to get it. Every call opens its own netlink socket: safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/inet/address.h"
#include "duplex/link/mac_address.h"

namespace duplex::link {

// Neighbour Unreachability Detection states (RFC 4861 section 7.3.2; Linux uses them for
// ARP too). An entry holds one, as a bit of ndm_state.
enum class NeighbourState : std::uint16_t {
  none = 0x00,
  incomplete = 0x01,  // asked, no answer yet
  reachable = 0x02,   // confirmed recently
  stale = 0x04,       // not confirmed lately; checked again on next use
  delay = 0x08,       // used while stale; waiting for upper-layer confirmation
  probe = 0x10,       // being asked again by unicast
  failed = 0x20,      // nobody answered
  noarp = 0x40,       // needs no resolution (multicast, point-to-point)
  permanent = 0x80,   // static: set by an administrator, never expires
};

struct Neighbour {
  inet::Address ip;
  std::optional<MacAddress> mac;  // none while incomplete or failed
  unsigned ifindex = 0;
  std::string dev;
  std::uint16_t state = 0;  // NeighbourState bits
  std::uint8_t flags = 0;   // NTF_* bits (router, proxy, extern_learn, ...)

  // Upper-case state names as `ip neigh` prints them: {"REACHABLE"}, {"STALE"}...
  std::vector<std::string_view> state_names() const;
  // Lower-case flag names as `ip neigh` prints them: {"router"}, {"extern_learn"}...
  std::vector<std::string_view> flag_names() const;
  bool is_router() const noexcept;
};

class NeighbourTable {
 public:
  // Every IPv4 (ARP) and IPv6 (NDP) entry, or only those of interface `ifindex`.
  static std::vector<Neighbour> list(std::optional<unsigned> ifindex = std::nullopt);

  // A new entry; throws duplex::Error when ip already has one on that interface.
  // `permanent` makes it static (PERMANENT); otherwise it is REACHABLE and ages like a
  // learnt entry.
  static void add(const inet::Address& ip, const MacAddress& mac, unsigned ifindex,
                  bool permanent = true);
  // Creates the entry or overwrites the one there.
  static void replace(const inet::Address& ip, const MacAddress& mac, unsigned ifindex,
                      bool permanent = true);
  // Throws duplex::Error when there is no entry for ip on that interface.
  static void remove(const inet::Address& ip, unsigned ifindex);
  // Deletes the learnt entries of the interface (as `ip neigh flush dev IF` does: not the
  // PERMANENT and NOARP ones, unless `include_permanent`). Returns how many went.
  static std::size_t flush(unsigned ifindex, bool include_permanent = false);
};

}  // namespace duplex::link
