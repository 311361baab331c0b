// Subnet maths. Every block is handled as an inclusive range of 128-bit numbers
// [lo, hi]; "hi + 1" is avoided wherever hi may be the last address of the family.
#include "duplex/inet/subnet.h"

#include <algorithm>

#include "duplex/base/error.h"

namespace duplex::inet {
namespace {

struct Range {
  uint128 lo, hi;
};

void append_range(Family family, uint128 lo, uint128 hi, std::vector<Prefix>& out) {
  const unsigned bits = family == Family::v4 ? 32 : 128;
  while (true) {
    // The largest aligned block starting at lo that does not pass hi.
    unsigned k = std::min(u128::countr_zero(lo), bits);
    const uint128 span = hi - lo;  // block size - 1 must be <= span
    if (span != u128::kMax) k = std::min(k, u128::bit_width(span + 1) - 1);
    out.emplace_back(Address::from_value(family, lo), bits - k);
    const uint128 block_last = lo + u128::ones(k);
    if (block_last >= hi) break;
    lo = block_last + 1;
  }
}

void check_limit(const Prefix& prefix, unsigned new_length, std::size_t limit) {
  const unsigned extra = new_length - prefix.length();
  if (extra < 63 && (std::uint64_t{1} << extra) <= limit) return;
  const unsigned max_extra = limit ? u128::bit_width(limit) - 1 : 0;  // largest 2^k <= limit
  const Prefix narrower(prefix.network(), new_length - max_extra);
  throw Error("splitting " + prefix.masked().to_string() + " into /" + std::to_string(new_length) +
              " gives " + u128::pow2_decimal(extra) + " subnets, more than the limit of " +
              std::to_string(limit) + "; split a longer prefix (e.g. " +
              narrower.masked().to_string() + ") or ask for a shorter length");
}

}  // namespace

std::vector<Prefix> split_by_length(const Prefix& prefix, unsigned new_length, std::size_t limit) {
  if (new_length > prefix.bits())
    throw Error("cannot split into /" + std::to_string(new_length) + ": the " +
                std::string(prefix.family() == Family::v4 ? "IPv4" : "IPv6") + " maximum is /" +
                std::to_string(prefix.bits()));
  if (new_length < prefix.length())
    throw Error("cannot split " + prefix.masked().to_string() + " into /" +
                std::to_string(new_length) + ": a subnet's length must be /" +
                std::to_string(prefix.length()) + " or longer");
  check_limit(prefix, new_length, limit);
  const unsigned extra = new_length - prefix.length();
  const unsigned host_bits = prefix.bits() - new_length;
  const uint128 base = prefix.network().value();
  std::vector<Prefix> out;
  out.reserve(std::size_t{1} << extra);
  for (uint128 i = 0; i < (uint128{1} << extra); ++i) {
    // host_bits may be 128 only when extra is 0 and i is 0: ::/0 split into ::/0.
    const uint128 offset = host_bits >= 128 ? 0 : i << host_bits;
    out.emplace_back(Address::from_value(prefix.family(), base + offset), new_length);
  }
  return out;
}

CountSplit split_by_count(const Prefix& prefix, std::uint64_t count, std::size_t limit) {
  if (count == 0) throw Error("cannot split into 0 subnets; ask for 1 or more");
  const unsigned extra = u128::bit_width(uint128{count} - 1);  // ceil(log2(count))
  const unsigned room = prefix.bits() - prefix.length();
  if (extra > room)
    throw Error(prefix.masked().to_string() + " holds at most " + u128::pow2_decimal(room) +
                " subnets (down to /" + std::to_string(prefix.bits()) + "); cannot split it into " +
                std::to_string(count));
  CountSplit r;
  r.requested_count = count;
  r.new_length = prefix.length() + extra;
  r.subnets = split_by_length(prefix, r.new_length, limit);
  r.rounded_count = r.subnets.size();
  return r;
}

std::optional<unsigned> length_for_hosts(Family family, std::uint64_t hosts) noexcept {
  if (hosts == 0) return std::nullopt;
  if (family == Family::v6) return 128 - u128::bit_width(uint128{hosts} - 1);
  if (hosts == 1) return 32;
  if (hosts == 2) return 31;
  const unsigned host_bits = u128::bit_width(uint128{hosts} + 1);  // room for hosts + 2
  if (host_bits > 32) return std::nullopt;
  return 32 - host_bits;
}

HostsPlan split_by_hosts(const Prefix& prefix, std::span<const std::uint64_t> hosts,
                         std::size_t limit) {
  if (hosts.empty()) throw Error("no host counts given; list one per subnet, e.g. 100,50,10");
  if (hosts.size() > limit)
    throw Error(std::to_string(hosts.size()) + " subnets asked for, more than the limit of " +
                std::to_string(limit) + "; plan fewer subnets at a time");
  std::vector<Allocation> plan;
  plan.reserve(hosts.size());
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (hosts[i] == 0)
      throw Error("a subnet needs at least 1 host (entry " + std::to_string(i + 1) + " is 0)");
    const auto len = length_for_hosts(prefix.family(), hosts[i]);
    if (!len || *len < prefix.length())
      throw Error(std::to_string(hosts[i]) + " hosts do not fit in " + prefix.masked().to_string() +
                  ", which holds " + prefix.host_count_decimal());
    plan.push_back({i, hosts[i], Prefix(prefix.network(), *len)});
  }
  // Largest first (ties in the order given): descending powers of two stay aligned.
  std::stable_sort(plan.begin(), plan.end(), [](const Allocation& a, const Allocation& b) {
    return a.subnet.length() < b.subnet.length();
  });
  const unsigned bits = prefix.bits();
  const uint128 start = prefix.network().value();
  const uint128 end = prefix.last().value();
  uint128 next = start;
  bool full = false;  // next has passed the end of the block
  uint128 needed = 0;
  for (auto& a : plan) needed += u128::ones(bits - a.subnet.length()) + 1;
  for (auto& a : plan) {
    if (full)
      throw Error("the subnets need " + u128::to_decimal(needed) + " addresses but " +
                  prefix.masked().to_string() + " has only " + prefix.address_count_decimal());
    a.subnet = Prefix(Address::from_value(prefix.family(), next), a.subnet.length());
    const uint128 last = next + u128::ones(bits - a.subnet.length());
    if (last >= end)
      full = true;
    else
      next = last + 1;
  }
  HostsPlan r;
  r.allocations = std::move(plan);
  if (!full) append_range(prefix.family(), next, end, r.free);
  return r;
}

std::vector<Prefix> aggregate(std::span<const Prefix> prefixes) {
  std::vector<Prefix> out;
  for (Family family : {Family::v4, Family::v6}) {
    std::vector<Range> ranges;
    for (const auto& p : prefixes)
      if (p.family() == family) ranges.push_back({p.network().value(), p.last().value()});
    if (ranges.empty()) continue;
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.lo < b.lo; });
    Range cur = ranges.front();
    for (std::size_t i = 1; i < ranges.size(); ++i) {
      const Range& r = ranges[i];
      if (cur.hi == u128::kMax || r.lo <= cur.hi + 1) {  // overlapping or adjacent
        cur.hi = std::max(cur.hi, r.hi);
      } else {
        append_range(family, cur.lo, cur.hi, out);
        cur = r;
      }
    }
    append_range(family, cur.lo, cur.hi, out);
  }
  return out;
}

std::vector<Prefix> range_to_prefixes(const Address& first, const Address& last) {
  if (first.family() != last.family())
    throw Error("a range needs two addresses of one family, not " + first.to_string() + " and " +
                last.to_string());
  if (last < first)
    throw Error("the range " + first.to_string() + " - " + last.to_string() +
                " is backwards; give the lower address first");
  std::vector<Prefix> out;
  append_range(first.family(), first.value(), last.value(), out);
  return out;
}

}  // namespace duplex::inet
