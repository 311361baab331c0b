#include "duplex/apps/scan/targets.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include "duplex/base/error.h"
#include "duplex/inet/endpoint.h"
#include "duplex/inet/uint128.h"
#include "duplex/transport/tcp_client.h"

namespace duplex::scan {
namespace {

// The range's end when written short: the last octet (IPv4, decimal) or the last group
// (IPv6, hex). nullopt when `text` is not such a number.
std::optional<inet::Address> short_end(const inet::Address& first, std::string_view text) {
  if (text.empty() || text.size() > (first.is_v4() ? 3u : 4u)) return std::nullopt;
  unsigned value = 0;
  const int base = first.is_v4() ? 10 : 16;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  const unsigned top = first.is_v4() ? 255 : 0xffff;
  if (value > top) {
    throw ParseError("'" + std::string(text) + "' cannot end a range: the last " +
                     (first.is_v4() ? "octet" : "group") + " is at most " +
                     (first.is_v4() ? "255" : "ffff"));
  }
  const unsigned width = first.is_v4() ? 8 : 16;
  const inet::uint128 low = first.value() & inet::u128::ones(width);
  const inet::uint128 base_value = first.value() - low;
  return inet::Address::from_value(first.family(), base_value + value);
}

TargetSpec parse_range(std::string_view text, std::size_t dash) {
  const std::string_view left = text.substr(0, dash), right = text.substr(dash + 1);
  const auto first = inet::Address::try_parse(left);
  if (!first) {
    throw ParseError("'" + std::string(text) + "' is not a range: '" + std::string(left) +
                     "' is not an address (write 10.0.0.1-20 or 10.0.0.1-10.0.0.20)");
  }
  std::optional<inet::Address> last = short_end(*first, right);
  if (!last) last = inet::Address::try_parse(right);
  if (!last) {
    throw ParseError("'" + std::string(text) + "' is not a range: '" + std::string(right) +
                     "' is neither an address nor a last " + (first->is_v4() ? "octet" : "group") +
                     " (write 10.0.0.1-20 or 10.0.0.1-10.0.0.20)");
  }
  if (last->family() != first->family()) {
    throw ParseError("'" + std::string(text) + "' mixes IPv4 and IPv6; give one range each");
  }
  if (*last < *first) {
    throw ParseError("'" + std::string(text) + "' is a backwards range: write " +
                     last->to_string() + "-" + first->to_string());
  }
  TargetSpec spec;
  spec.kind = TargetSpec::Kind::range;
  spec.first = *first;
  spec.last = *last;
  return spec;
}

bool looks_like_name(std::string_view text) {
  // RFC 1123 host names: letters, digits, '-' and '.', not all digits and dots (that would be
  // a mistyped address, better reported as one).
  if (text.empty() || text.size() > 253 || text.front() == '-') return false;
  bool letter = false;
  for (char c : text) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && !(c >= '0' && c <= '9') && c != '-' && c != '.') return false;
    letter = letter || alpha;
  }
  return letter;
}

}  // namespace

std::uint64_t TargetSpec::count() const noexcept {
  if (kind == Kind::name) return 1;
  const inet::uint128 n = last.value() - first.value();
  if (n >= inet::uint128{UINT64_MAX}) return UINT64_MAX;
  return static_cast<std::uint64_t>(n) + 1;
}

TargetSpec parse_target(std::string_view text) {
  if (text.empty()) throw ParseError("an empty target: give an address, a CIDR, a range or a name");
  if (text.find('/') != std::string_view::npos) {
    TargetSpec spec;
    const inet::Prefix p = inet::Prefix::parse(text);
    spec.kind = TargetSpec::Kind::prefix;
    spec.first = p.network();
    spec.last = p.last();
    spec.prefix_length = p.length();
    spec.text = std::string(text);
    return spec;
  }
  // '-' in a name is common (my-host); a range needs an address before it.
  if (const auto dash = text.find('-'); dash != std::string_view::npos) {
    if (inet::Address::try_parse(text.substr(0, dash))) {
      TargetSpec spec = parse_range(text, dash);
      spec.text = std::string(text);
      return spec;
    }
  }
  if (const auto a = inet::Address::try_parse(text)) {
    TargetSpec spec;
    spec.first = spec.last = *a;
    spec.text = std::string(text);
    return spec;
  }
  if (!looks_like_name(text)) {
    // Let the address parser say exactly what is wrong ("octet 300 is above 255").
    if (text.find_first_not_of("0123456789.") == std::string_view::npos ||
        text.find(':') != std::string_view::npos) {
      inet::Address::parse(text);
    }
    throw ParseError("'" + std::string(text) +
                     "' is not an address, a CIDR, a range (10.0.0.1-20) or a host name");
  }
  TargetSpec spec;
  spec.kind = TargetSpec::Kind::name;
  spec.text = std::string(text);
  return spec;
}

std::vector<Target> expand_targets(const std::vector<TargetSpec>& specs, std::uint64_t limit) {
  std::uint64_t total = 0;
  for (const auto& s : specs) {
    total = s.count() > UINT64_MAX - total ? UINT64_MAX : total + s.count();
  }
  if (total > limit) {
    throw Error("the targets hold " +
                (total == UINT64_MAX ? std::string("more than 2^64") : std::to_string(total)) +
                " addresses, more than " + std::to_string(limit) +
                " that one scan takes; split them into smaller prefixes");
  }
  std::vector<Target> out;
  out.reserve(static_cast<std::size_t>(total));
  std::unordered_set<inet::Address> seen;
  auto add = [&](const inet::Address& a, std::string name) {
    if (seen.insert(a).second) out.push_back({a, std::move(name)});
  };
  for (const auto& s : specs) {
    if (s.kind == TargetSpec::Kind::name) {
      add(TcpClient::resolve(s.text, 0).front().address(), s.text);
      continue;
    }
    const std::uint64_t n = s.count();
    for (std::uint64_t i = 0; i < n; ++i) add(s.first + inet::uint128{i}, {});
  }
  return out;
}

std::vector<inet::Prefix> local_prefixes() {
  std::vector<inet::Prefix> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !i->ifa_netmask) continue;
    const socklen_t len =
        i->ifa_addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    const auto address = inet::Endpoint::from_sockaddr(i->ifa_addr, len);
    const auto mask = inet::Endpoint::from_sockaddr(i->ifa_netmask, len);
    if (!address || !mask) continue;
    const auto length = inet::Prefix::mask_length(mask->address());
    if (length) out.emplace_back(address->address(), *length);
  }
  ::freeifaddrs(list);
  return out;
}

bool is_local(const inet::Address& address, const std::vector<inet::Prefix>& local) noexcept {
  const inet::Address a = address.unmapped();
  if (a.is_loopback()) return true;
  return std::any_of(local.begin(), local.end(),
                     [&](const inet::Prefix& p) { return p.contains(a); });
}

}  // namespace duplex::scan
