// Internal. The layout of the OUI vendor index that tools/oui_index.cc writes at build time
// and src/duplex/link/oui.cc reads from the bytes embedded in the library.
//
// All integers are little-endian and read byte by byte, so the blob needs no alignment and
// the reader no casts. Layout:
//   header   kHeaderSize bytes, fields at the offsets below
//   tables   kTableCount arrays of u64 entries, each sorted by key, one per prefix length
//            (24 = MA-L, 28 = MA-M, 36 = MA-S and IAB)
//   strings  organisation names, each a u8 length then that many UTF-8 bytes, deduplicated
//
// An entry packs the assigned prefix, the registry and the name's offset into one u64, so
// that sorting entries sorts prefixes and a table is one flat array to binary-search:
//   bits 63..26  prefix (the assigned bits, right-aligned: 0x00000c for 00:00:0c/24)
//   bits 25..24  registry (kMaL, kMaM, kMaS, kIab)
//   bits 23..0   offset of the name in the string table
#pragma once

#include <cstddef>
#include <cstdint>

namespace duplex::link::oui_format {

inline constexpr char kMagic[8] = {'D', 'P', 'X', 'O', 'U', 'I', '\0', '\1'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kTableCount = 3;
inline constexpr std::uint32_t kPrefixBits[kTableCount] = {24, 28, 36};

// Registry codes, as stored in an entry.
inline constexpr std::uint32_t kMaL = 0, kMaM = 1, kMaS = 2, kIab = 3;
inline constexpr std::size_t kRegistryCount = 4;

// Header field offsets.
inline constexpr std::size_t kMagicAt = 0;
inline constexpr std::size_t kVersionAt = 8;
inline constexpr std::size_t kTablesAt = 12;  // per table: u32 prefix bits, u32 count, u32 offset
inline constexpr std::size_t kTableHeaderSize = 12;
inline constexpr std::size_t kStringsAt =
    kTablesAt + kTableCount * kTableHeaderSize;           // u32 offset, u32 size
inline constexpr std::size_t kBlocksAt = kStringsAt + 8;  // u32 blocks per registry
inline constexpr std::size_t kSnapshotAt = kBlocksAt + 4 * kRegistryCount;  // u64 unix time
// u32 offset in the string table of the directory the registries were read from.
inline constexpr std::size_t kSourceAt = kSnapshotAt + 8;
inline constexpr std::size_t kHeaderSize = kSourceAt + 4;

inline constexpr unsigned kKeyShift = 26;
inline constexpr unsigned kRegistryShift = 24;
inline constexpr std::uint64_t kOffsetMask = (std::uint64_t{1} << 24) - 1;

constexpr std::uint64_t pack(std::uint64_t key, std::uint32_t registry,
                             std::uint32_t offset) noexcept {
  return (key << kKeyShift) | (std::uint64_t{registry} << kRegistryShift) | offset;
}

constexpr std::uint32_t read_u32(const unsigned char* p) noexcept {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

constexpr std::uint64_t read_u64(const unsigned char* p) noexcept {
  return std::uint64_t{read_u32(p)} | std::uint64_t{read_u32(p + 4)} << 32;
}

}  // namespace duplex::link::oui_format
