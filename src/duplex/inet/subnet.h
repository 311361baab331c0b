// Public. Subnet maths on prefixes: split a block into subnets, plan subnets by host
// counts (VLSM), aggregate a list into the fewest prefixes, and turn a range into CIDRs.
//
// Everything here is pure computation on values: safe to call from any thread. Outputs
// that could explode (a /8 split into /30s is four million lines) are bounded by `limit`;
// past it the functions throw duplex::Error with a message saying how to narrow the ask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "duplex/inet/prefix.h"

namespace duplex::inet {

// The default bound on how many subnets a split may produce.
inline constexpr std::size_t kMaxSubnets = 65536;

// All subnets of length `new_length` inside `prefix`, in address order. new_length must be
// in [prefix.length(), bits]. Throws duplex::Error when the split is impossible or exceeds
// `limit`.
std::vector<Prefix> split_by_length(const Prefix& prefix, unsigned new_length,
                                    std::size_t limit = kMaxSubnets);

// Splits into `count` equal subnets. Equal CIDR subnets come in powers of two, so `count` is
// rounded up: 3 gives 4 subnets of /len+2. `rounded_count` says what was used.
struct CountSplit {
  std::uint64_t requested_count = 0;
  std::uint64_t rounded_count = 0;
  unsigned new_length = 0;
  std::vector<Prefix> subnets;
};
CountSplit split_by_count(const Prefix& prefix, std::uint64_t count,
                          std::size_t limit = kMaxSubnets);

// The smallest prefix length whose block holds `hosts` usable hosts, with the same rules
// as Prefix::host_count(): IPv4 1 -> /32, 2 -> /31 (RFC 3021), 3..6 -> /29, 254 -> /24;
// IPv6 counts every address. nullopt when no block of the family is big enough.
std::optional<unsigned> length_for_hosts(Family family, std::uint64_t hosts) noexcept;

// VLSM: one subnet per entry of `hosts`, each the smallest block that holds it, placed
// largest first from the start of `prefix` (so every block is aligned). `free` is what is
// left after the last block, as the fewest CIDRs. Throws duplex::Error when they do not fit.
struct Allocation {
  std::size_t index = 0;    // position in the `hosts` list given
  std::uint64_t hosts = 0;  // hosts asked for
  Prefix subnet;
};
struct HostsPlan {
  std::vector<Allocation> allocations;  // in address order (= largest first)
  std::vector<Prefix> free;
};
HostsPlan split_by_hosts(const Prefix& prefix, std::span<const std::uint64_t> hosts,
                         std::size_t limit = kMaxSubnets);

// The fewest prefixes covering exactly the union of `prefixes` (host bits are ignored):
// overlapping and covered ones are dropped and adjacent siblings merged. IPv4 results come
// first, then IPv6, each in address order.
std::vector<Prefix> aggregate(std::span<const Prefix> prefixes);

// The fewest prefixes covering exactly first..last (inclusive). Throws duplex::Error when
// the families differ or first > last.
std::vector<Prefix> range_to_prefixes(const Address& first, const Address& last);

}  // namespace duplex::inet
