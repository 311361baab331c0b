#include "duplex/inet/access_list.h"

#include <algorithm>
#include <string>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"

namespace duplex::inet {

std::vector<Prefix> AccessList::parse_list(std::string_view text) {
  std::vector<Prefix> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    if (auto p = Prefix::try_parse(item)) {
      out.push_back(*p);
    } else if (auto a = Address::try_parse(item)) {
      out.emplace_back(*a, a->bits());
    } else {
      throw ParseError(quote(item) + " is not an address or a prefix (e.g. 10.0.0.0/8, ::1)");
    }
  }
  return out;
}

bool AccessList::holds(const Prefix& p, const Address& peer) noexcept {
  return p.contains(peer) || (peer.is_v4_mapped() && p.contains(peer.unmapped()));
}

bool AccessList::admits(const Address& peer) const noexcept {
  const auto in = [&](const Prefix& p) { return holds(p, peer); };
  if (std::any_of(deny_.begin(), deny_.end(), in)) return false;
  return allow_.empty() || std::any_of(allow_.begin(), allow_.end(), in);
}

}  // namespace duplex::inet
