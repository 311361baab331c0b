// `duplex ip same | split | aggregate | range`: subnet questions and subnet maths.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "duplex/apps/report/address_json.h"
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

Exit status: 0 ok, 2 bad input. A bad item is reported on stderr (with its line number when
read from stdin) and left out; the others are still aggregated.
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

Exit status: 0 ok, 2 bad input (including a backwards range). Each bad range is reported on
stderr (with its line number when read from stdin); the others are still printed.
)";

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
  std::optional<apps::SameSubnet> result;
  try {
    result = apps::same_subnet(args.positionals()[0], args.positionals()[1], args.value("mask"),
                               {"--mask", "--mask 255.255.255.0"});
  } catch (const apps::AskError& e) {
    args.fail(e.what());
  }
  const apps::SameSubnet& s = *result;
  const unsigned length = s.length;
  const Address& mask = s.mask;
  const Address& net_a = s.a.network;
  const Address& net_b = s.b.network;
  const bool same = s.same;
  if (args.has("json")) {
    print(apps::same_subnet_json(s));
    return same ? 0 : 1;
  }
  std::size_t width = mask.to_string().size();
  for (const auto* o : {&s.a, &s.b})
    width = std::max({width, o->address.to_string().size(), o->network.to_string().size()});
  auto row = [&](std::string_view op, const Address& x, bool highlight) {
    std::string text = x.to_string();
    text.resize(width + 2, ' ');
    std::cout << "  " << op << ' ' << (highlight ? bold(text) : text) << bits_of(x, length) << '\n';
  };
  for (const auto* o : {&s.a, &s.b}) {
    row(" ", o->address, false);
    row("&", mask, false);
    row("=", o->network, true);
    std::cout << '\n';
  }
  if (same) {
    std::cout << "  " << net_a.to_string() << " = " << net_b.to_string() << ": "
              << green("same subnet") << " (" << Prefix(net_a, length).to_string() << ") -> yes\n";
  } else {
    const unsigned bit =
        s.a.address.bits() - inet::u128::bit_width(net_a.value() ^ net_b.value()) + 1;
    std::cout << "  " << net_a.to_string() << " != " << net_b.to_string() << ": "
              << red("different subnets") << " (they first differ at network bit " << bit << " of "
              << length << ") -> no\n";
  }
  return same ? 0 : 1;
}

// --- split -----------------------------------------------------------------------------

namespace {

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
  apps::Split split;
  try {
    if (args.has("hosts"))
      split = apps::split_by_hosts(whole, apps::parse_host_counts(*args.value("hosts"), "--hosts"));
    else if (args.has("count"))
      split = apps::split_by_count(whole, *args.number("count", 1, UINT64_MAX));
    else
      split = apps::split_by_length(whole, *args.value("prefix"));
  } catch (const apps::AskError& e) {
    args.fail(e.what());
  }
  if (args.has("json")) {
    print(apps::split_json(split));
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  if (split.mode == "hosts") {
    auto header = subnet_header(whole.family());
    header.insert(header.begin(), "asked");
    rows.push_back(header);
    for (std::size_t i = 0; i < split.subnets.size(); ++i) {
      auto row = subnet_row(split.subnets[i]);
      row.insert(row.begin(), std::to_string(split.hosts[i]));
      rows.push_back(row);
    }
    std::cout << whole.to_string() << " planned by host count, largest first:\n";
    print_table(rows);
    if (split.free.empty()) {
      std::cout << "free: none\n";
    } else {
      std::cout << "free:";
      for (const auto& p : split.free) std::cout << ' ' << p.to_string();
      std::cout << '\n';
    }
    return 0;
  }
  std::string heading = whole.to_string() + " into " + std::to_string(split.rounded_count) +
                        " subnets of /" + std::to_string(*split.new_length);
  if (split.requested_count && split.rounded_count != *split.requested_count)
    heading +=
        " (" + std::to_string(*split.requested_count) + " asked for, rounded up to a power of two)";
  std::cout << heading << ":\n";
  rows.push_back(subnet_header(whole.family()));
  for (const auto& p : split.subnets) rows.push_back(subnet_row(p));
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
  // A bad line is reported and left out; the rest is still aggregated, with exit status 2.
  const int status =
      args.each_positional([&](const std::string& w) { input.push_back(Prefix::parse(w)); });
  if (args.has("json")) {
    print(apps::aggregate_json(input));
    return status;
  }
  for (const auto& p : inet::aggregate(input)) std::cout << p.to_string() << '\n';
  return status;
}

int range_main(Argv argv) {
  Args args("duplex ip range", argv, {{"json", 0, false}});
  if (args.help()) {
    std::cout << kRangeHelp;
    return 0;
  }
  args.expand_stdin();
  const auto& words = args.positionals();
  auto one_range = [&](std::string_view first_text, std::string_view last_text) {
    const Address first = Address::parse(first_text);
    const Address last = Address::parse(last_text);
    if (args.has("json")) {
      print(apps::range_json(first, last));
      return;
    }
    const auto out = as_parse_error([&] { return inet::range_to_prefixes(first, last); });
    for (const auto& p : out) std::cout << p.to_string() << '\n';
  };
  // A word without a dash among dashed ones is a bad range, reported with its line.
  const bool dashed = !words.empty() && std::any_of(words.begin(), words.end(), [](const auto& w) {
    return w.find('-') != std::string::npos;
  });
  if (!dashed) {
    args.expect_positionals(2, 2, "A B, the first and last address of the range");
    one_range(words[0], words[1]);
    return 0;
  }
  return args.each_positional([&](const std::string& w) {
    const auto dash = w.find('-');
    if (dash == std::string::npos)
      throw ParseError(quote(w) + " is not a range: expected FIRST-LAST, e.g. 10.0.0.0-10.0.0.9");
    one_range(trim(std::string_view(w).substr(0, dash)),
              trim(std::string_view(w).substr(dash + 1)));
  });
}

}  // namespace duplex::cli::ip
