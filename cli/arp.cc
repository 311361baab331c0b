// `duplex arp`: the kernel's neighbour table (show, add, replace, del, flush, ping, scan, watch)
// and the dispatch to ping, scan and watch.
#include "arp.h"

#include <iostream>
#include <string_view>

#include "args.h"
#include "commands.h"
#include "duplex/apps/report/address_json.h"
#include "duplex/base/error.h"
#include "duplex/inet/address.h"
#include "duplex/link/interface.h"
#include "duplex/link/neighbour_table.h"
#include "duplex/link/oui.h"
#include "output.h"

namespace duplex::cli {
namespace arp {
namespace {

using inet::Address;
using link::Interface;
using link::MacAddress;
using link::Neighbour;
using link::NeighbourTable;
using Json = nlohmann::json;

constexpr std::string_view kHelp = R"(Usage: duplex arp show [--dev IF] [--all] [--json]
       duplex arp add IP MAC --dev IF [--temp]
       duplex arp replace IP MAC --dev IF [--temp]
       duplex arp del IP --dev IF
       duplex arp flush --dev IF [--all]
       duplex arp ping IP [--dev IF] [-c N] [-w DEADLINE] [-i INTERVAL] [--dad | --gratuitous]
       duplex arp scan PREFIX --dev IF [--rate PPS] [--json]
       duplex arp watch [--dev IF] [--db FILE] [--json] [--exec CMD]
       (see duplex arp SUBCOMMAND --help)

The link layer: who is at which MAC address. `show` reads the kernel's neighbour table
through netlink (IPv4 ARP and IPv6 NDP) like `ip neigh`, adding each MAC's vendor from the
IEEE OUI registry. `add` and `replace` write static entries, `del` and `flush` remove them.
`ping`, `scan` and `watch` work on real frames (a packet socket): ask one address, sweep a
subnet, or listen passively for new stations and changed MACs (ARP spoofing).

States, as the kernel keeps them: INCOMPLETE (asked, no answer yet), REACHABLE (confirmed
recently), STALE (not confirmed lately, checked again on next use), DELAY, PROBE, FAILED
(nobody answered), NOARP (no resolution needed), PERMANENT (static, never expires).
Flags: router (an IPv6 router said so), proxy, extern_learn, offload.

Options:
  --dev IF   only this interface (show); the interface of the entry (add/replace/del/flush)
  --temp     add/replace: a dynamic entry (REACHABLE, ages out) instead of PERMANENT
  --all      show: the NOARP entries too (multicast, loopback), which `ip neigh` hides;
             flush: the PERMANENT entries too (by default, like `ip neigh flush`, only
             learnt entries go)
  --json     show: one JSON object per entry, one per line, every key always present:
             ip, family ("ipv4"|"ipv6"), mac (null while unresolved), vendor (null when
             unknown or locally administered), dev, ifindex, state (list of names),
             flags (list of names), router (bool)

Changing the table needs CAP_NET_ADMIN: run as root, or once
`sudo setcap cap_net_admin,cap_net_raw+ep $(command -v duplex)`.

Examples:
  duplex arp show
  duplex arp show --dev eth0 --json
  sudo duplex arp add 192.168.1.1 00:00:0c:12:34:56 --dev eth0
  sudo duplex arp replace 192.168.1.1 00:00:0c:65:43:21 --dev eth0 --temp
  sudo duplex arp del 192.168.1.1 --dev eth0
  sudo duplex arp flush --dev eth0
  sudo duplex arp ping 192.168.1.1 -c 3
  sudo duplex arp scan 192.168.1.0/24 --dev eth0
  sudo duplex arp watch --dev eth0

Exit status: 0 ok, 1 refused by the kernel (no privilege, no such entry), 2 bad input.
)";

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

std::string joined(const std::vector<std::string_view>& names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ",") + std::string(n);
  return out;
}

int show(const Args& args) {
  args.expect_positionals(0, 0, "no argument (filter with --dev IF)");
  std::optional<unsigned> ifindex;
  if (auto dev = args.value("dev")) ifindex = Interface::by_name(*dev).index;
  auto entries = NeighbourTable::list(ifindex);
  // Like `ip neigh`, NOARP entries (multicast, loopback: nothing to resolve) only on request.
  if (!args.has("all"))
    std::erase_if(entries, [](const Neighbour& n) { return (n.state & 0x40) != 0; });
  if (args.has("json")) {
    for (const auto& n : entries) print_json(apps::neighbour_json(n));
    return 0;
  }
  for (const auto& n : entries) {
    const auto state = joined(n.state_names());
    std::string line = pad(n.ip.to_string(), n.ip.is_v4() ? 16 : 26) + " " +
                       pad(n.mac ? n.mac->to_string() : "-", 17) + "  " + pad(n.dev, 10) + " " +
                       (n.state & 0x02   ? green(pad(state, 10))
                        : n.state & 0x20 ? red(pad(state, 10))
                                         : pad(state, 10));
    const auto flags = joined(n.flag_names());
    if (!flags.empty()) line += " " + flags;
    if (n.mac) line += "  " + dim(vendor_text(*n.mac));
    std::cout << line << '\n';
  }
  return 0;
}

unsigned required_dev(const Args& args) {
  auto dev = args.value("dev");
  if (!dev) args.fail("missing --dev IF: a neighbour entry belongs to one interface");
  return Interface::by_name(*dev).index;
}

int add_or_replace(const Args& args, bool replace) {
  args.expect_positionals(2, 2, "IP MAC, e.g. 192.168.1.1 00:00:0c:12:34:56");
  const auto ip = Address::parse(args.positionals()[0]);
  const auto mac = MacAddress::parse(args.positionals()[1]);
  const unsigned ifindex = required_dev(args);
  const bool permanent = !args.has("temp");
  if (replace)
    NeighbourTable::replace(ip, mac, ifindex, permanent);
  else
    NeighbourTable::add(ip, mac, ifindex, permanent);
  return 0;
}

int del(const Args& args) {
  args.expect_positionals(1, 1, "the IP address of the entry");
  const auto ip = Address::parse(args.positionals()[0]);
  NeighbourTable::remove(ip, required_dev(args));
  return 0;
}

int flush(const Args& args) {
  args.expect_positionals(0, 0, "no argument besides --dev IF");
  const auto n = NeighbourTable::flush(required_dev(args), args.has("all"));
  std::cerr << "flushed " << n << (n == 1 ? " entry\n" : " entries\n");
  return 0;
}

}  // namespace

std::optional<std::string> vendor(const MacAddress& mac) { return apps::station_vendor(mac); }

Json vendor_json(const MacAddress& mac) { return apps::station_vendor_json(mac); }

std::string vendor_text(const MacAddress& mac) {
  if (auto v = vendor(mac)) return *v;
  if (mac.is_group()) return "(group address)";
  if (mac.is_zero()) return "(none)";
  return mac.is_local() ? "(locally administered)" : "(unknown)";
}

}  // namespace arp

int arp_main(Argv argv) {
  const std::string_view sub = argv.empty() ? "show" : std::string_view(argv[0]);
  const Argv rest = argv.empty() ? argv : argv.subspan(1);
  if (sub == "ping") return arp::ping_main(rest);
  if (sub == "scan") return arp::scan_main(rest);
  if (sub == "watch") return arp::watch_main(rest);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::cout << arp::kHelp;
    return 0;
  }
  const bool known =
      sub == "show" || sub == "add" || sub == "replace" || sub == "del" || sub == "flush";
  if (!known)
    throw UsageError("unknown subcommand '" + std::string(sub) +
                     "' (show, add, replace, del, flush, ping, scan, watch); see "
                     "'duplex arp --help'");
  // Each subcommand takes only its own options: `arp del --temp` is a mistake to report,
  // not to ignore.
  std::vector<Option> options{{"dev", 0, true}};
  if (sub == "show") options.insert(options.end(), {{"all", 0, false}, {"json", 0, false}});
  if (sub == "add" || sub == "replace") options.push_back({"temp", 0, false});
  if (sub == "flush") options.push_back({"all", 0, false});
  Args args("duplex arp " + std::string(sub), rest, std::move(options));
  if (args.help()) {
    std::cout << arp::kHelp;
    return 0;
  }
  if (sub == "show") return arp::show(args);
  if (sub == "add") return arp::add_or_replace(args, false);
  if (sub == "replace") return arp::add_or_replace(args, true);
  if (sub == "del") return arp::del(args);
  return arp::flush(args);
}

}  // namespace duplex::cli
