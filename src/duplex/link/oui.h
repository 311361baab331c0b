// Public. Who a MAC address belongs to: the IEEE Registration Authority's assignments of
// MAC address blocks, as shipped by Debian's ieee-data and indexed at build time.
//
// The registries, longest prefix first (the longest match wins, so an MA-S block inside
// the IEEE's own MA-L 70:b3:d5 names the MA-S owner):
//   MA-S  36-bit prefix, 4,096 addresses        (formerly OUI-36)
//   IAB   36-bit prefix, 4,096 addresses        (Individual Address Block, closed in 2014)
//   MA-M  28-bit prefix, 1,048,576 addresses
//   MA-L  24-bit prefix (the OUI), 16,777,216 addresses
//
// Lookups read the index embedded in the library: no allocation, no file I/O, no start-up
// parse; at most three binary searches. Safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/link/mac_address.h"

namespace duplex::link::oui {

enum class Registry : std::uint8_t { ma_l, ma_m, ma_s, iab };

// "MA-L", "MA-M", "MA-S" or "IAB", as the IEEE writes them.
std::string_view to_string(Registry registry) noexcept;

// One block of addresses that the IEEE assigned to an organisation.
struct Assignment {
  Registry registry = Registry::ma_l;
  // As registered ("Private" when the owner paid to keep its name out of the public list).
  // Points into the embedded index, so it stays valid for the life of the program.
  std::string_view organization;
  std::uint64_t prefix = 0;    // the assigned bits, right-aligned: 0x00000c for 00:00:0c/24
  unsigned prefix_length = 0;  // 24, 28 or 36 bits

  MacAddress first() const noexcept;  // the block's lowest address
  MacAddress last() const noexcept;   // and its highest
  std::uint64_t size() const noexcept { return std::uint64_t{1} << (48 - prefix_length); }
  // The block as first address and prefix length: "00:00:0c:00:00:00/24".
  std::string to_string() const;
};

// The organisation whose IEEE block holds `mac`, or nullopt when no block does.
// A group (multicast) address that no block holds as written is looked up again with its
// I/G bit cleared, because an OUI covers the group addresses its owner derives from it:
// 01:00:0c:cc:cc:cc (CDP) belongs to Cisco's 00:00:0c. A locally administered address
// (U/L bit set) normally has no vendor, yet the registry still lists about twenty blocks
// from before the U/L bit was honoured (AA:00:04, DECnet; 02:60:8C, 3Com); those are
// returned as listed.
std::optional<Assignment> lookup(const MacAddress& mac) noexcept;

// What the embedded index holds.
struct Snapshot {
  std::size_t ma_l = 0, ma_m = 0, ma_s = 0, iab = 0;  // blocks per registry
  std::size_t index_bytes = 0;                        // size of the embedded index
  // When Debian's ieee-data fetched the registries (Unix time), or 0 when unknown.
  std::int64_t updated = 0;
  std::string_view source;  // the directory the registries were read from at build time
};
Snapshot snapshot() noexcept;

}  // namespace duplex::link::oui
