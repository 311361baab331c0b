// Classification after the IANA registries: "IPv4 Special-Purpose Address Registry",
// "IPv6 Special-Purpose Address Registry" (RFC 6890 and updates, as of 2025) and, for the
// IPv6 space IANA has not allocated, the "Internet Protocol Version 6 Address Space".
// Multicast is not in the special-purpose registries; it is added from RFC 5771 / RFC 4291.
//
// A linear scan of ~65 rows for the longest match: fast enough for a CLI and a dashboard,
// and the table reads like the registry it copies.
#include <array>
#include <iterator>

#include "duplex/base/strings.h"
#include "duplex/inet/address.h"

namespace duplex::inet {
namespace {

using C = Category;

// clang-format off: one registry row per line reads like the registry itself.
constexpr SpecialBlock kBlocks[] = {
    // IPv4 special-purpose registry, plus multicast (RFC 5771)
    {"0.0.0.0/8", "This network", "RFC 791", C::this_network, false},
    {"0.0.0.0/32", "This host on this network", "RFC 1122", C::unspecified, false},
    {"10.0.0.0/8", "Private-Use", "RFC 1918", C::private_use, false},
    {"100.64.0.0/10", "Shared Address Space (CGNAT)", "RFC 6598", C::shared_cgnat, false},
    {"127.0.0.0/8", "Loopback", "RFC 1122", C::loopback, false},
    {"169.254.0.0/16", "Link Local", "RFC 3927", C::link_local, false},
    {"172.16.0.0/12", "Private-Use", "RFC 1918", C::private_use, false},
    {"192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", C::protocol, false},
    {"192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", C::protocol, false},
    {"192.0.0.8/32", "IPv4 dummy address", "RFC 7600", C::protocol, false},
    {"192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", C::protocol, true},
    {"192.0.0.10/32", "TURN Anycast", "RFC 8155", C::protocol, true},
    {"192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880", C::translation, false},
    {"192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880", C::translation, false},
    {"192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", C::documentation, false},
    {"192.31.196.0/24", "AS112-v4", "RFC 7535", C::protocol, true},
    {"192.52.193.0/24", "AMT", "RFC 7450", C::protocol, true},
    {"192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", C::tunnel, false},
    {"192.168.0.0/16", "Private-Use", "RFC 1918", C::private_use, false},
    {"192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", C::protocol, true},
    {"198.18.0.0/15", "Benchmarking", "RFC 2544", C::benchmarking, false},
    {"198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", C::documentation, false},
    {"203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", C::documentation, false},
    {"224.0.0.0/4", "Multicast", "RFC 5771", C::multicast, false},
    {"240.0.0.0/4", "Reserved", "RFC 1112", C::reserved, false},
    {"255.255.255.255/32", "Limited Broadcast", "RFC 919", C::broadcast, false},

    // IPv6 special-purpose registry, plus multicast (RFC 4291)
    {"::/128", "Unspecified Address", "RFC 4291", C::unspecified, false},
    {"::1/128", "Loopback Address", "RFC 4291", C::loopback, false},
    {"::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", C::ipv4_mapped, false},
    {"64:ff9b::/96", "IPv4-IPv6 Translation", "RFC 6052", C::translation, true},
    {"64:ff9b:1::/48", "IPv4-IPv6 Translation (local use)", "RFC 8215", C::translation, false},
    {"100::/64", "Discard-Only Address Block", "RFC 6666", C::discard, false},
    {"2001::/23", "IETF Protocol Assignments", "RFC 2928", C::protocol, false},
    {"2001::/32", "Teredo", "RFC 4380", C::tunnel, false},
    {"2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", C::protocol, true},
    {"2001:1::2/128", "TURN Anycast", "RFC 8155", C::protocol, true},
    {"2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", C::protocol,
     true},
    {"2001:2::/48", "Benchmarking", "RFC 5180", C::benchmarking, false},
    {"2001:3::/32", "AMT", "RFC 7450", C::protocol, true},
    {"2001:4:112::/48", "AS112-v6", "RFC 7535", C::protocol, true},
    {"2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", C::reserved, false},
    {"2001:20::/28", "ORCHIDv2", "RFC 7343", C::protocol, true},
    {"2001:30::/28", "Drone Remote ID Protocol Entity Tags", "RFC 9374", C::protocol, true},
    {"2001:db8::/32", "Documentation", "RFC 3849", C::documentation, false},
    {"2002::/16", "6to4", "RFC 3056", C::tunnel, false},
    {"2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", C::protocol, true},
    {"3fff::/20", "Documentation", "RFC 9637", C::documentation, false},
    {"5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", C::protocol, false},
    {"fc00::/7", "Unique-Local", "RFC 4193", C::unique_local, false},
    {"fe80::/10", "Link-Local Unicast", "RFC 4291", C::link_local, false},
    {"ff00::/8", "Multicast", "RFC 4291", C::multicast, false},

    // IPv6 address space IANA keeps "Reserved by IETF" (everything outside 2000::/3 that
    // no row above names); fec0::/10 is the deprecated site-local block (RFC 3879).
    {"::/8", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"100::/8", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"200::/7", "Reserved by IETF", "RFC 4048", C::reserved, false},
    {"400::/6", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"800::/5", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"1000::/4", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"4000::/3", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"6000::/3", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"8000::/3", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"a000::/3", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"c000::/3", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"e000::/4", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"f000::/5", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"f800::/6", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"fe00::/9", "Reserved by IETF", "RFC 4291", C::reserved, false},
    {"fec0::/10", "Deprecated site-local", "RFC 3879", C::reserved, false},
};
// clang-format on

// The prefixes above as numbers, computed once from their own text so the two cannot disagree.
struct Row {
  Family family;
  uint128 value;  // the block's first address as a number
  unsigned length;
  const SpecialBlock* block;
};

const std::array<Row, std::size(kBlocks)>& rows() {
  static const auto table = [] {
    std::array<Row, std::size(kBlocks)> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto text = kBlocks[i].prefix;
      const auto slash = text.find('/');
      const Address a = Address::parse(text.substr(0, slash));
      const auto length = parse_uint(text.substr(slash + 1), a.bits());
      out[i] = {a.family(), a.value(), static_cast<unsigned>(length.value_or(a.bits())),
                &kBlocks[i]};
    }
    return out;
  }();
  return table;
}

}  // namespace

std::string_view to_string(Category c) noexcept {
  switch (c) {
    case C::global:
      return "global";
    case C::unspecified:
      return "unspecified";
    case C::this_network:
      return "this_network";
    case C::loopback:
      return "loopback";
    case C::private_use:
      return "private_use";
    case C::shared_cgnat:
      return "shared_cgnat";
    case C::link_local:
      return "link_local";
    case C::multicast:
      return "multicast";
    case C::documentation:
      return "documentation";
    case C::benchmarking:
      return "benchmarking";
    case C::reserved:
      return "reserved";
    case C::broadcast:
      return "broadcast";
    case C::unique_local:
      return "unique_local";
    case C::ipv4_mapped:
      return "ipv4_mapped";
    case C::translation:
      return "translation";
    case C::protocol:
      return "protocol";
    case C::tunnel:
      return "tunnel";
    case C::discard:
      return "discard";
  }
  return "global";
}

const SpecialBlock* Address::special() const noexcept {
  const Row* best = nullptr;
  const uint128 v = value();
  for (const auto& row : rows()) {
    if (row.family != family_ || (best && best->length >= row.length)) continue;
    const unsigned host_bits = bits() - row.length;
    if ((v >> host_bits) == (row.value >> host_bits)) best = &row;
  }
  return best ? best->block : nullptr;
}

Category Address::category() const noexcept {
  const auto* b = special();
  return b ? b->category : Category::global;
}

bool Address::is_unspecified() const noexcept { return value() == 0; }
bool Address::is_loopback() const noexcept { return category() == C::loopback; }
bool Address::is_private() const noexcept { return category() == C::private_use; }
bool Address::is_cgnat() const noexcept { return category() == C::shared_cgnat; }
bool Address::is_link_local() const noexcept { return category() == C::link_local; }
bool Address::is_multicast() const noexcept { return category() == C::multicast; }
bool Address::is_documentation() const noexcept { return category() == C::documentation; }
bool Address::is_reserved() const noexcept { return category() == C::reserved; }
bool Address::is_broadcast() const noexcept { return category() == C::broadcast; }
bool Address::is_unique_local() const noexcept { return category() == C::unique_local; }

bool Address::is_global() const noexcept {
  const auto* b = special();
  return b ? b->globally_reachable : true;
}

}  // namespace duplex::inet
