// `duplex ip`: dispatch to the subcommands, and the report on one address or prefix
// (everything ipcalc and sipcalc print, in one place, with --json).
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "duplex/apps/report/address_json.h"
#include "duplex/base/error.h"
#include "duplex/inet/prefix.h"
#include "ip.h"
#include "output.h"

namespace duplex::cli {
namespace ip {
namespace {

using inet::Address;
using inet::Family;
using inet::MaskNotation;
using inet::Prefix;

constexpr std::string_view kHelp = R"(Usage: duplex ip ADDRESS[/LEN | MASK]... [--json]
       duplex ip same A B [--mask M]        same subnet? (exit 0 yes, 1 no)
       duplex ip split PREFIX (--count N | --prefix LEN | --hosts H1,H2,...)
       duplex ip aggregate PREFIX...        the fewest prefixes covering a list
       duplex ip range A B                  the fewest prefixes covering A..B
       (see duplex ip SUBCOMMAND --help)

Everything about an IPv4 or IPv6 address or prefix that ipcalc and sipcalc print: the
address in decimal, hex and binary (a space marks the network/host boundary), mask,
wildcard, network, broadcast, host range and count, classful class, type (after the IANA
special-purpose registries) and reverse DNS name; for IPv6 the expanded and compressed
forms, prefix and range.

Input:
  Addresses: 192.168.1.10, 3232235786, 0xC0A8010A, 11000000.10101000.00000001.00001010,
  2001:db8::1, ::ffff:192.0.2.1. Leading zeros (010.1.1.1) are refused: inet_aton reads
  them as octal. Zone ids (fe80::1%eth0) are refused.
  Masks: /24, /255.255.255.0, a space then 255.255.255.0 or 0xffffff00, or a wildcard
  (inverse) mask such as 0.0.0.255, which is recognised and reported. Two arguments
  ADDRESS MASK form one prefix; a second argument written as a mask (255.x or 0.x) whose
  bits are not contiguous is refused, not reported as a second address. An IPv4 address
  without a mask shows its classful default mask, marked as such. An argument '-' reads
  one item per line from stdin ('#' starts a comment); a bad line is reported with its
  number ("line 3: ...") and the other lines are still printed.

Host ranges: a /31 has two usable hosts and no broadcast (RFC 3021); a /32 is one host.
  IPv6 has no broadcast and counts every address as usable; its network address is also
  the Subnet-Router anycast address (RFC 4291).

Options:
  --json   one JSON object per item, one per line. Every key is always present (null
           when it does not apply); numbers that may exceed 2^53 are decimal strings:
    input, family ("ipv4"|"ipv6"), address, decimal, hex, binary, expanded, reverse_dns,
    ipv4_mapped, class ("A".."E"), classful_mask, classful_prefix_length,
    type (global, private_use, shared_cgnat, loopback, link_local, multicast,
      documentation, benchmarking, reserved, broadcast, unique_local, unspecified,
      this_network, ipv4_mapped, translation, protocol, tunnel, discard),
    type_name, type_block, type_rfc, globally_reachable,
    prefix (network/length), prefix_length, mask_notation (length|dotted|hex|wildcard),
    mask, mask_hex, wildcard, network, broadcast, first_address, last_address,
    first_host, last_host, address_count, host_count

Examples:
  duplex ip 192.168.1.10/24
  duplex ip 10.0.0.1 255.255.255.252
  duplex ip 172.16.5.4 0.0.255.255         # wildcard mask, read as /16
  duplex ip 2001:db8::1/64 --json
  duplex ip 3232235786
  printf '10.0.0.1/8\n192.168.0.1/31\n' | duplex ip - --json

Exit status: 0 ok, 2 bad input (one line on stderr per bad item, naming what is wrong).
)";

using Item = apps::IpItem;

unsigned classful_length(char cls) { return cls == 'A' ? 8 : cls == 'B' ? 16 : 24; }

void line(std::string_view name, const std::string& value, const std::string& extra = {}) {
  std::cout << label(name) << value;
  if (!extra.empty()) {
    const std::size_t width = 23;
    std::cout << std::string(value.size() < width ? width - value.size() : 1, ' ') << extra;
  }
  std::cout << '\n';
}

std::string type_text(const Address& a) {
  const auto* s = a.special();
  std::string out = std::string(to_string(a.category()));
  if (s)
    out += " (" + std::string(s->name) + ", " + std::string(s->prefix) + ", " +
           std::string(s->rfc) + ")";
  out += a.is_global() ? ", globally reachable" : ", not globally reachable";
  return out;
}

void print_human_v4(const Item& item) {
  const auto& p = item.prefix;
  const Address& a = p.address();
  const unsigned len = p.length();
  const bool m = item.has_mask();
  line("address", bold(a.to_string()), m ? marked_binary(a, len) : a.to_binary());
  line("decimal", a.to_decimal());
  line("hex", a.to_hex());
  const char cls = a.ipv4_class();
  if (m) {
    if (item.notation == MaskNotation::wildcard)
      line("note", "the mask given is a wildcard (inverse) mask, read as /" + std::to_string(len));
    line("netmask", p.mask().to_string() + " = /" + std::to_string(len),
         marked_binary(p.mask(), len));
    line("mask hex", p.mask().to_hex());
    line("wildcard", p.wildcard().to_string(), marked_binary(p.wildcard(), len));
    line("network", bold(p.masked().to_string()), marked_binary(p.network(), len));
    if (auto b = p.broadcast())
      line("broadcast", b->to_string(), marked_binary(*b, len));
    else
      line("broadcast", len == 31 ? "none (point-to-point link, RFC 3021)" : "none (host route)");
    line("host min", p.first_host().to_string());
    line("host max", p.last_host().to_string());
    const std::string count = p.address_count_decimal();
    line("hosts", bold(p.host_count_decimal()) + " (" + count +
                      (count == "1" ? " address)" : " addresses)"));
    line("class",
         std::string(1, cls) +
             (cls <= 'C' ? " (classful default /" + std::to_string(classful_length(cls)) + ")"
                         : std::string(cls == 'D' ? " (multicast)" : " (reserved)")));
  } else if (cls <= 'C') {
    const Prefix classful(a, classful_length(cls));
    line("class", std::string(1, cls) + ", classful default mask " + classful.mask().to_string() +
                      " = /" + std::to_string(classful.length()) + " " +
                      dim("(classful default, not given)"));
    line("classful", "network " + classful.network().to_string() + ", broadcast " +
                         classful.broadcast()->to_string() + ", " + classful.host_count_decimal() +
                         " hosts");
  } else {
    line("class", std::string(1, cls) + (cls == 'D' ? " (multicast, no classful mask)"
                                                    : " (reserved, no classful mask)"));
  }
  line("type", type_text(a));
  line("reverse dns", a.reverse_dns());
}

void print_human_v6(const Item& item) {
  const auto& p = item.prefix;
  const Address& a = p.address();
  const bool m = item.has_mask();
  line("address", bold(a.to_string()));
  line("expanded", a.to_expanded());
  if (a.is_v4_mapped()) line("ipv4", a.unmapped().to_string() + " (IPv4-mapped)");
  line("decimal", a.to_decimal());
  line("hex", a.to_hex());
  line("binary", m ? marked_binary(a, p.length()) : a.to_binary());
  if (m) {
    line("prefix", bold(p.masked().to_string()));
    line("mask", p.mask().to_string() + " = /" + std::to_string(p.length()));
    line("network", p.network().to_string(),
         p.length() < 127 ? dim("(also the Subnet-Router anycast address)") : "");
    line("last", p.last().to_string());
    line("range", p.network().to_expanded() + " -");
    line("", p.last().to_expanded());
    line("addresses", bold(p.address_count_decimal()) + " = 2^" + std::to_string(128 - p.length()) +
                          ", all usable as hosts");
  }
  line("type", type_text(a));
  line("reverse dns", a.reverse_dns());
}

int info_main(Argv argv) {
  Args args("duplex ip", argv, {{"json", 0, false}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  args.expand_stdin();
  args.expect_positionals(1, SIZE_MAX, "an address or prefix, e.g. 192.168.1.10/24");
  const bool json = args.has("json");
  bool first = true;
  auto report = [&](const Item& item) {
    if (json) {
      print(apps::ip_report(item));
      return;
    }
    if (!first) std::cout << '\n';
    first = false;
    if (item.prefix.family() == Family::v4)
      print_human_v4(item);
    else
      print_human_v6(item);
  };
  const auto& words = args.positionals();
  if (words.size() == 2) {
    if (auto pair = apps::ip_address_and_mask(words[0], words[1])) {
      report(*pair);
      return 0;
    }
  }
  return args.each_positional([&](const std::string& w) { report(apps::ip_item(w)); });
}

}  // namespace

void print(const Json& j) { std::cout << j.dump() << '\n'; }

std::string label(std::string_view text) {
  std::string out(text);
  out.resize(13, ' ');
  return out;
}

std::string marked_binary(const Address& a, unsigned prefix_length) {
  const std::string bits = a.to_binary();
  // Find the position in the text of bit number `prefix_length`, skipping separators.
  std::size_t pos = 0;
  for (unsigned seen = 0; pos < bits.size() && seen < prefix_length; ++pos)
    if (bits[pos] == '0' || bits[pos] == '1') ++seen;
  if (pos < bits.size() && bits[pos] != '0' && bits[pos] != '1') ++pos;  // after a separator
  if (pos == 0 || pos == bits.size()) return pos == 0 ? bits : cyan(bits);
  return cyan(bits.substr(0, pos)) + " " + bits.substr(pos);
}

}  // namespace ip

int ip_main(Argv argv) {
  if (!argv.empty()) {
    const std::string_view sub = argv[0];
    const Argv rest = argv.subspan(1);
    if (sub == "same") return ip::same_main(rest);
    if (sub == "split") return ip::split_main(rest);
    if (sub == "aggregate") return ip::aggregate_main(rest);
    if (sub == "range") return ip::range_main(rest);
  }
  return ip::info_main(argv);
}

}  // namespace duplex::cli
