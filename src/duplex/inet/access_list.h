// Public. Which peers a server serves: an allow list and a deny list of prefixes, as
// `duplex listen --allow/--deny` and tcpwrappers-style access files write them.
//
// A peer is refused if a deny prefix holds it; otherwise served if the allow list is empty
// or an allow prefix holds it. An IPv4 client of a dual-stack [::] socket arrives as
// ::ffff:a.b.c.d (RFC 4291 2.5.5.2): the IPv4 rules apply to it as to a.b.c.d, and IPv6
// rules that name the mapped form (::ffff:0:0/96) still hold it.
//
// All members are safe to call from any thread once built (it is a value).
#pragma once

#include <string_view>
#include <vector>

#include "duplex/inet/prefix.h"

namespace duplex::inet {

class AccessList {
 public:
  AccessList() = default;
  AccessList(std::vector<Prefix> allow, std::vector<Prefix> deny)
      : allow_(std::move(allow)), deny_(std::move(deny)) {}

  // "10.0.0.0/8,::1" -> the prefixes; an address alone is a /32 or /128. Empty items are
  // skipped. Throws duplex::ParseError naming the item that is neither.
  static std::vector<Prefix> parse_list(std::string_view text);

  bool admits(const Address& peer) const noexcept;
  bool empty() const noexcept { return allow_.empty() && deny_.empty(); }
  const std::vector<Prefix>& allow() const noexcept { return allow_; }
  const std::vector<Prefix>& deny() const noexcept { return deny_; }

  // Whether `p` holds `peer`, reading an IPv4-mapped peer as its IPv4 address too.
  static bool holds(const Prefix& p, const Address& peer) noexcept;

 private:
  std::vector<Prefix> allow_, deny_;
};

}  // namespace duplex::inet
