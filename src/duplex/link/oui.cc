#include "duplex/link/oui.h"

#include <algorithm>
#include <cstring>

#include "duplex/link/internal/oui_index_format.h"

// The index bytes, embedded by the generated oui_blob.S (see oui.cmake).
extern "C" const unsigned char duplex_oui_index[];
extern "C" const unsigned char duplex_oui_index_end[];

namespace duplex::link::oui {
namespace {

namespace fmt = oui_format;

struct Table {
  unsigned bits = 0;
  std::size_t count = 0;
  const unsigned char* entries = nullptr;
};

struct Index {
  bool valid = false;
  Table tables[fmt::kTableCount];
  const unsigned char* strings = nullptr;
  std::size_t strings_size = 0;
};

// Reads the header once and checks that every table lies inside the blob, so that the
// lookups below cannot read past it even if the build embedded something else.
const Index& index() noexcept {
  static const Index idx = [] {
    Index i;
    const unsigned char* base = duplex_oui_index;
    const auto size = static_cast<std::size_t>(duplex_oui_index_end - duplex_oui_index);
    if (size < fmt::kHeaderSize || std::memcmp(base, fmt::kMagic, sizeof fmt::kMagic) != 0 ||
        fmt::read_u32(base + fmt::kVersionAt) != fmt::kVersion)
      return i;
    for (std::size_t t = 0; t < fmt::kTableCount; ++t) {
      const unsigned char* h = base + fmt::kTablesAt + t * fmt::kTableHeaderSize;
      const std::size_t count = fmt::read_u32(h + 4), offset = fmt::read_u32(h + 8);
      if (fmt::read_u32(h) != fmt::kPrefixBits[t] || offset > size || count > (size - offset) / 8)
        return i;
      i.tables[t] = {fmt::kPrefixBits[t], count, base + offset};
    }
    const std::size_t s_offset = fmt::read_u32(base + fmt::kStringsAt);
    i.strings_size = fmt::read_u32(base + fmt::kStringsAt + 4);
    if (s_offset > size || i.strings_size > size - s_offset) return i;
    i.strings = base + s_offset;
    i.valid = true;
    return i;
  }();
  return idx;
}

std::string_view name_at(const Index& idx, std::size_t offset) noexcept {
  if (offset >= idx.strings_size) return {};
  const std::size_t len = std::min<std::size_t>(idx.strings[offset], idx.strings_size - offset - 1);
  return {reinterpret_cast<const char*>(idx.strings + offset + 1), len};
}

// Binary search for the entry whose prefix is `key` in one table.
std::optional<std::uint64_t> find(const Table& table, std::uint64_t key) noexcept {
  std::size_t lo = 0, hi = table.count;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const std::uint64_t e = fmt::read_u64(table.entries + 8 * mid);
    const std::uint64_t k = e >> fmt::kKeyShift;
    if (k == key) return e;
    if (k < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Registry registry) noexcept {
  switch (registry) {
    case Registry::ma_l:
      return "MA-L";
    case Registry::ma_m:
      return "MA-M";
    case Registry::ma_s:
      return "MA-S";
    case Registry::iab:
      return "IAB";
  }
  return "?";
}

MacAddress Assignment::first() const noexcept {
  return MacAddress::from_uint64(prefix << (48 - prefix_length));
}

MacAddress Assignment::last() const noexcept {
  return MacAddress::from_uint64((prefix << (48 - prefix_length)) | (size() - 1));
}

std::string Assignment::to_string() const {
  return first().to_string() + "/" + std::to_string(prefix_length);
}

namespace {

std::optional<Assignment> longest_match(const Index& idx, std::uint64_t address) noexcept {
  for (std::size_t t = fmt::kTableCount; t-- > 0;) {  // longest prefix first
    const Table& table = idx.tables[t];
    const std::uint64_t key = address >> (48 - table.bits);
    const auto entry = find(table, key);
    if (!entry) continue;
    Assignment a;
    a.registry = static_cast<Registry>((*entry >> fmt::kRegistryShift) & 0x3);
    a.organization = name_at(idx, *entry & fmt::kOffsetMask);
    a.prefix = key;
    a.prefix_length = table.bits;
    return a;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Assignment> lookup(const MacAddress& mac) noexcept {
  const Index& idx = index();
  if (!idx.valid) return std::nullopt;
  const std::uint64_t address = mac.to_uint64();
  if (auto a = longest_match(idx, address)) return a;
  constexpr std::uint64_t kGroupBit = std::uint64_t{1} << 40;
  if (mac.is_group() && !mac.is_broadcast()) return longest_match(idx, address & ~kGroupBit);
  return std::nullopt;
}

Snapshot snapshot() noexcept {
  Snapshot s;
  if (!index().valid) return s;
  const unsigned char* base = duplex_oui_index;
  s.ma_l = fmt::read_u32(base + fmt::kBlocksAt + 4 * fmt::kMaL);
  s.ma_m = fmt::read_u32(base + fmt::kBlocksAt + 4 * fmt::kMaM);
  s.ma_s = fmt::read_u32(base + fmt::kBlocksAt + 4 * fmt::kMaS);
  s.iab = fmt::read_u32(base + fmt::kBlocksAt + 4 * fmt::kIab);
  s.index_bytes = static_cast<std::size_t>(duplex_oui_index_end - duplex_oui_index);
  s.updated = static_cast<std::int64_t>(fmt::read_u64(base + fmt::kSnapshotAt));
  s.source = name_at(index(), fmt::read_u32(base + fmt::kSourceAt));
  return s;
}

}  // namespace duplex::link::oui
