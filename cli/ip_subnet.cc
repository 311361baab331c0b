// `duplex ip same | split | aggregate | range`: subnet questions and subnet maths.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"
#include "duplex/inet/subnet.h"
#include "ip.h"
#include "output.h"

namespace duplex::cli::ip {
namespace {

using inet::Address;
using inet::Family;
using inet::MaskNotation;
using inet::Prefix;

constexpr std::string_view kSameHelp = R"(Usage: duplex ip same A B [--mask M] [--json]

Are A and B in the same subnet? Each address is ANDed with the mask, bit by bit, and the
two networks compared: equal networks mean the same subnet.

The mask comes from --mask (24, /24, 255.255.255.0, 0xffffff00 or a wildcard such as
0.0.0.255), or else from A/LEN or B/LEN (if both carry one, they must agree).

Options:
  -m, --mask M   the subnet mask
  --json         one object: same_subnet, prefix_length, mask, mask_binary, network
                 (the shared network/len, or null), addresses: [{input, address, binary,
                 network, network_binary}, ...]

Examples:
  duplex ip same 172.16.10.1 172.16.10.2 --mask 255.255.255.0     # yes, exit 0
  duplex ip same 172.16.10.1/24 172.16.11.1                       # no, exit 1
  duplex ip same 10.1.2.3 10.1.200.4 --mask 16 --json
  duplex ip same 2001:db8::1 2001:db8::ff:1 --mask 64

Exit status: 0 same subnet, 1 different subnets, 2 bad input.
)";

constexpr std::string_view kSplitHelp =
    R"(Usage: duplex ip split PREFIX (--count N | --prefix LEN | --hosts H1,H2,...) [--json]

Splits a prefix into subnets, listing each with its host range.
  --count N        N equal subnets. CIDR blocks come in powers of two, so N is rounded up
                   (3 gives 4 subnets of /LEN+2) and the output says so.
  --prefix LEN     every subnet of length LEN (26, /26 or a mask such as 255.255.255.192).
  --hosts H1,...   VLSM: one subnet per count, each the smallest block holding that many
                   hosts (a /31 holds 2 hosts per RFC 3021, a /32 one), placed largest
                   first; the space left over is listed as free. Fails if they do not fit.
At most 65536 subnets are listed; a larger split is refused with a hint.

Options:
  --json   one object: prefix, mode (count|prefix|hosts), requested_count,
           new_prefix_length, count, subnets: [{subnet, network, first_host, last_host,
           last_address, broadcast, host_count, requested_hosts}], free: [prefix, ...]

Examples:
  duplex ip split 192.168.1.0/24 --count 4
  duplex ip split 10.0.0.0/16 --prefix 20
  duplex ip split 192.168.0.0/24 --hosts 100,50,20,2
  duplex ip split 2001:db8::/48 --prefix 52 --json

Exit status: 0 ok, 2 bad input or a split that does not fit.
)";

constexpr std::string_view kAggregateHelp = R"(Usage: duplex ip aggregate PREFIX... [--json]

The fewest prefixes that cover exactly the same addresses as the list: covered prefixes
are dropped, overlapping and adjacent ones merged (10.0.0.0/24 + 10.0.1.0/24 =
10.0.0.0/23). Host bits are ignored (10.0.0.7/24 counts as 10.0.0.0/24); a bare address
is a /32 or /128. IPv4 results come first, then IPv6, each in address order.

Options:
  --json   one object: input_count, count, prefixes: [prefix, ...]

Examples:
  duplex ip aggregate 10.0.0.0/24 10.0.1.0/24 10.0.2.0/23
  duplex ip aggregate 2001:db8::/33 2001:db8:8000::/33 192.0.2.0/25 192.0.2.128/25
  cat routes.txt | duplex ip aggregate -

Exit status: 0 ok, 2 bad input.
)";

constexpr std::string_view kRangeHelp = R"(Usage: duplex ip range A B [--json]
       duplex ip range A-B...

The fewest CIDR prefixes covering exactly the addresses A to B, inclusive.

Options:
  --json   one object per range: first, last, address_count, prefixes: [prefix, ...]

Examples:
  duplex ip range 10.0.0.5 10.0.0.20
  duplex ip range 192.168.0.0-192.168.3.255
  duplex ip range 2001:db8::1 2001:db8::ff --json
  printf '10.0.0.0-10.0.0.9\n10.1.0.0-10.1.1.255\n' | duplex ip range -

Exit status: 0 ok, 2 bad input (including a backwards range).
)";

std::string family_name(Family f) { return f == Family::v4 ? "IPv4" : "IPv6"; }

// Prints rows as columns two spaces apart; the first row is a dim header.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (std::size_t n = 0; n < rows.size(); ++n) {
    std::string text;
    for (std::size_t i = 0; i < rows[n].size(); ++i) {
      std::string cell = rows[n][i];
      if (i + 1 < rows[n].size()) cell.resize(width[i] + 2, ' ');
      text += cell;
    }
    std::cout << "  " << (n == 0 ? dim(text) : text) << '\n';
  }
}

// --- same ------------------------------------------------------------------------------

struct Operand {
  std::string input;
  Address address;
  std::optional<unsigned> length;
};

Operand operand(const std::string& text) {
  MaskNotation how{};
  const auto p = Prefix::parse(text, &how);
  Operand o{text, p.address(), std::nullopt};
  if (how != MaskNotation::none) o.length = p.length();
  return o;
}

// The address in the notation the comparison is shown in: binary for IPv4, whose 32 bits
// fit on a line; the expanded hex form for IPv6.
// The network/host boundary is marked with a space, as ipcalc does.
std::string bits_of(const Address& a, unsigned length) {
  return a.is_v4() ? marked_binary(a, length) : a.to_expanded();
}

}  // namespace

int same_main(Argv argv) {
  Args args("duplex ip same", argv, {{"mask", 'm', true}, {"json", 0, false}});
  if (args.help()) {
    std::cout << kSameHelp;
    return 0;
  }
  args.expand_stdin();
  args.expect_positionals(2, 2, "two addresses A B");
  const Operand a = operand(args.positionals()[0]);
  const Operand b = operand(args.positionals()[1]);
  if (a.address.family() != b.address.family())
    throw ParseError(quote(a.input) + " is " + family_name(a.address.family()) + " and " +
                     quote(b.input) + " is " + family_name(b.address.family()) +
                     ": they cannot share a subnet");
  unsigned length = 0;
  if (auto m = args.value("mask")) {
    length = Prefix::parse_mask(*m, a.address.family());
  } else if (a.length && b.length && *a.length != *b.length) {
    args.fail(quote(a.input) + " and " + quote(b.input) +
              " carry different lengths; give one with --mask");
  } else if (a.length || b.length) {
    length = a.length ? *a.length : *b.length;
  } else {
    args.fail("no mask: write A/LEN or give --mask, e.g. --mask 255.255.255.0");
  }
  const Address mask = Prefix::mask_of(a.address.family(), length);
  const Address net_a = a.address & mask;
  const Address net_b = b.address & mask;
  const bool same = net_a == net_b;

  if (args.has("json")) {
    Json j;
    j["same_subnet"] = same;
    j["prefix_length"] = length;
    j["mask"] = mask.to_string();
    j["mask_binary"] = mask.to_binary();
    j["network"] = same ? Json(Prefix(net_a, length).to_string()) : Json();
    j["addresses"] = Json::array();
    for (const auto* o : {&a, &b}) {
      const Address net = o->address & mask;
      j["addresses"].push_back({{"input", o->input},
                                {"address", o->address.to_string()},
                                {"binary", o->address.to_binary()},
                                {"network", net.to_string()},
                                {"network_binary", net.to_binary()}});
    }
    print(j);
    return same ? 0 : 1;
  }
  std::size_t width = mask.to_string().size();
  for (const auto* o : {&a, &b})
    width =
        std::max({width, o->address.to_string().size(), (o->address & mask).to_string().size()});
  auto row = [&](std::string_view op, const Address& x, bool highlight) {
    std::string text = x.to_string();
    text.resize(width + 2, ' ');
    std::cout << "  " << op << ' ' << (highlight ? bold(text) : text) << bits_of(x, length) << '\n';
  };
  for (const auto* o : {&a, &b}) {
    row(" ", o->address, false);
    row("&", mask, false);
    row("=", o->address & mask, true);
    std::cout << '\n';
  }
  if (same) {
    std::cout << "  " << net_a.to_string() << " = " << net_b.to_string() << ": "
              << green("same subnet") << " (" << Prefix(net_a, length).to_string() << ") -> yes\n";
  } else {
    const unsigned bit =
        a.address.bits() - inet::u128::bit_width(net_a.value() ^ net_b.value()) + 1;
    std::cout << "  " << net_a.to_string() << " != " << net_b.to_string() << ": "
              << red("different subnets") << " (they first differ at network bit " << bit << " of "
              << length << ") -> no\n";
  }
  return same ? 0 : 1;
}

// --- split -----------------------------------------------------------------------------

namespace {

std::vector<std::uint64_t> parse_hosts(const Args& args, const std::vector<std::string>& lists) {
  std::vector<std::uint64_t> out;
  for (const auto& list : lists) {
    std::string_view rest = list;
    while (true) {
      const auto comma = rest.find(',');
      const auto item = trim(rest.substr(0, comma));
      const auto n = parse_uint(item, UINT64_MAX);
      if (!n || *n == 0)
        args.fail("--hosts " + quote(item) + " is not a host count (a whole number from 1)");
      out.push_back(*n);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  return out;
}

Json subnet_json(const Prefix& p, std::optional<std::uint64_t> requested) {
  Json j;
  j["subnet"] = p.to_string();
  j["network"] = p.network().to_string();
  j["first_host"] = p.first_host().to_string();
  j["last_host"] = p.last_host().to_string();
  j["last_address"] = p.last().to_string();
  const auto b = p.broadcast();
  j["broadcast"] = b ? Json(b->to_string()) : Json();
  j["host_count"] = p.host_count_decimal();
  j["requested_hosts"] = requested ? Json(*requested) : Json();
  return j;
}

std::vector<std::string> subnet_row(const Prefix& p) {
  const auto b = p.broadcast();
  if (p.family() == Family::v6)
    return {p.to_string(), p.first_host().to_string(), p.last_host().to_string(),
            p.host_count_decimal()};
  return {p.to_string(), p.first_host().to_string(), p.last_host().to_string(),
          b ? b->to_string() : "-", p.host_count_decimal()};
}

std::vector<std::string> subnet_header(Family f) {
  if (f == Family::v6) return {"subnet", "first", "last", "addresses"};
  return {"subnet", "first host", "last host", "broadcast", "hosts"};
}

}  // namespace

int split_main(Argv argv) {
  Args args("duplex ip split", argv,
            {{"count", 'n', true}, {"prefix", 'p', true}, {"hosts", 0, true}, {"json", 0, false}});
  if (args.help()) {
    std::cout << kSplitHelp;
    return 0;
  }
  args.expand_stdin();
  args.expect_positionals(1, 1, "one prefix to split, e.g. 192.168.1.0/24");
  const int modes = int{args.has("count")} + int{args.has("prefix")} + int{args.has("hosts")};
  if (modes != 1) args.fail("give exactly one of --count N, --prefix LEN or --hosts H1,H2,...");
  const Prefix whole = Prefix::parse(args.positionals()[0]).masked();
  const bool json = args.has("json");
  Json j;
  j["prefix"] = whole.to_string();
  std::vector<std::vector<std::string>> rows;

  if (args.has("hosts")) {
    const std::vector<std::string> lists{*args.value("hosts")};
    const auto hosts = parse_hosts(args, lists);
    const auto plan = as_input_error([&] { return inet::split_by_hosts(whole, hosts); });
    j["mode"] = "hosts";
    j["requested_count"] = nullptr;
    j["new_prefix_length"] = nullptr;
    j["count"] = plan.allocations.size();
    j["subnets"] = Json::array();
    j["free"] = Json::array();
    auto header = subnet_header(whole.family());
    header.insert(header.begin(), "asked");
    rows.push_back(header);
    for (const auto& a : plan.allocations) {
      j["subnets"].push_back(subnet_json(a.subnet, a.hosts));
      auto row = subnet_row(a.subnet);
      row.insert(row.begin(), std::to_string(a.hosts));
      rows.push_back(row);
    }
    for (const auto& p : plan.free) j["free"].push_back(p.to_string());
    if (json) {
      print(j);
      return 0;
    }
    std::cout << whole.to_string() << " planned by host count, largest first:\n";
    print_table(rows);
    if (plan.free.empty()) {
      std::cout << "free: none\n";
    } else {
      std::cout << "free:";
      for (const auto& p : plan.free) std::cout << ' ' << p.to_string();
      std::cout << '\n';
    }
    return 0;
  }

  std::vector<Prefix> subnets;
  std::string heading;
  if (args.has("count")) {
    const auto n = *args.number("count", 1, UINT64_MAX);
    const auto r = as_input_error([&] { return inet::split_by_count(whole, n); });
    j["mode"] = "count";
    j["requested_count"] = n;
    j["new_prefix_length"] = r.new_length;
    subnets = r.subnets;
    heading = whole.to_string() + " into " + std::to_string(r.rounded_count) + " subnets of /" +
              std::to_string(r.new_length);
    if (r.rounded_count != n)
      heading += " (" + std::to_string(n) + " asked for, rounded up to a power of two)";
  } else {
    const unsigned len = Prefix::parse_mask(*args.value("prefix"), whole.family());
    subnets = as_input_error([&] { return inet::split_by_length(whole, len); });
    j["mode"] = "prefix";
    j["requested_count"] = nullptr;
    j["new_prefix_length"] = len;
    heading = whole.to_string() + " into " + std::to_string(subnets.size()) + " subnets of /" +
              std::to_string(len);
  }
  j["count"] = subnets.size();
  if (json) {
    j["subnets"] = Json::array();
    for (const auto& p : subnets) j["subnets"].push_back(subnet_json(p, std::nullopt));
    j["free"] = Json::array();
    print(j);
    return 0;
  }
  std::cout << heading << ":\n";
  rows.push_back(subnet_header(whole.family()));
  for (const auto& p : subnets) rows.push_back(subnet_row(p));
  print_table(rows);
  return 0;
}

// --- aggregate and range -----------------------------------------------------------------

int aggregate_main(Argv argv) {
  Args args("duplex ip aggregate", argv, {{"json", 0, false}});
  if (args.help()) {
    std::cout << kAggregateHelp;
    return 0;
  }
  args.expand_stdin();
  args.expect_positionals(1, SIZE_MAX, "one or more prefixes");
  std::vector<Prefix> input;
  input.reserve(args.positionals().size());
  for (const auto& w : args.positionals()) input.push_back(Prefix::parse(w));
  const auto out = inet::aggregate(input);
  if (args.has("json")) {
    Json j;
    j["input_count"] = input.size();
    j["count"] = out.size();
    j["prefixes"] = Json::array();
    for (const auto& p : out) j["prefixes"].push_back(p.to_string());
    print(j);
    return 0;
  }
  for (const auto& p : out) std::cout << p.to_string() << '\n';
  return 0;
}

int range_main(Argv argv) {
  Args args("duplex ip range", argv, {{"json", 0, false}});
  if (args.help()) {
    std::cout << kRangeHelp;
    return 0;
  }
  args.expand_stdin();
  const auto& words = args.positionals();
  std::vector<std::pair<std::string, std::string>> ranges;
  const bool dashed = !words.empty() && std::all_of(words.begin(), words.end(), [](const auto& w) {
    return w.find('-') != std::string::npos;
  });
  if (dashed) {
    for (const auto& w : words) {
      const auto dash = w.find('-');
      ranges.emplace_back(std::string(trim(std::string_view(w).substr(0, dash))),
                          std::string(trim(std::string_view(w).substr(dash + 1))));
    }
  } else {
    args.expect_positionals(2, 2, "A B, the first and last address of the range");
    ranges.emplace_back(words[0], words[1]);
  }
  for (const auto& [first_text, last_text] : ranges) {
    const Address first = Address::parse(first_text);
    const Address last = Address::parse(last_text);
    const auto out = as_input_error([&] { return inet::range_to_prefixes(first, last); });
    if (args.has("json")) {
      Json j;
      j["first"] = first.to_string();
      j["last"] = last.to_string();
      const inet::uint128 span = last.value() - first.value();
      j["address_count"] = span == inet::u128::kMax ? inet::u128::pow2_decimal(128)
                                                    : inet::u128::to_decimal(span + 1);
      j["prefixes"] = Json::array();
      for (const auto& p : out) j["prefixes"].push_back(p.to_string());
      print(j);
      continue;
    }
    for (const auto& p : out) std::cout << p.to_string() << '\n';
  }
  return 0;
}

}  // namespace duplex::cli::ip
