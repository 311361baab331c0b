// `duplex ndp`: IPv6 neighbour discovery on real frames (ping, dad, routers), like ndisc6
// and rdisc6. A command of its own rather than more `duplex arp` subcommands: NDP has
// routers to ask and flags to print that ARP has not, and ndisc6's users expect -I.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "arp.h"
#include "commands.h"
#include "duplex/base/error.h"
#include "duplex/base/strings.h"
#include "duplex/inet/address.h"
#include "duplex/link/interface.h"
#include "duplex/link/ndp.h"
#include "output.h"

namespace duplex::cli {
namespace {

using arp::ms;
using inet::Address;
using link::Interface;

constexpr std::string_view kHelp =
    R"(Usage: duplex ndp ping ADDRESS [-I IF] [-c N] [-i INTERVAL] [-1]
       duplex ndp dad ADDRESS -I IF [-c N]
       duplex ndp routers [-I IF] [-c N]

IPv6 neighbour discovery (RFC 4861) on a packet socket, as ndisc6 and rdisc6 do it.
`ping` sends neighbour solicitations for ADDRESS to its solicited-node group from the
interface's link-local address, and prints every advertisement: the target link-layer
address (the MAC), the flags (router, solicited, override) and the round-trip time.
`dad` is duplicate address detection (RFC 4862 5.4): a solicitation from ::, so that
nobody learns from it; an advertisement for ADDRESS, or another node's solicitation from ::
for it, means the address is taken. `routers` sends a router solicitation to ff02::2 and
prints each advertisement: hop limit, flags M/O, lifetime, reachable and retransmit
times, prefixes with their flags and lifetimes, MTU, DNS servers, source MAC.

The kernel's neighbour table (IPv4 and IPv6) is `duplex arp show`.

Options:
  -I, --dev IF       the interface (ping: by default the one the route to ADDRESS uses;
                     a link-local ADDRESS needs it, as does dad; routers: needed)
  -c, --count N      solicitations (ping: 3, stopping at the first answer with -1; dad: 1,
                     RFC 4862's DupAddrDetectTransmits; routers: 3, until one answers)
  -i, --interval S   seconds between solicitations, and the wait after the last (default 1)
  -1, --first        ping: stop at the first advertisement, as ndisc6 does

Needs CAP_NET_RAW: run as root, or once `sudo setcap cap_net_raw+ep $(command -v duplex)`.

Examples:
  sudo duplex ndp ping fe80::1 -I eth0
  sudo duplex ndp ping 2001:db8::1 -c 1
  sudo duplex ndp dad 2001:db8::77 -I eth0       # is 2001:db8::77 free?
  sudo duplex ndp routers -I eth0

Exit status: ping: 0 answered, 1 no answer; dad: 0 unique, 1 duplicate; routers: 0 a
router answered, 1 none did; 2 bad input (an IPv4 address, no such interface, no
CAP_NET_RAW).
)";

std::string yes(bool b) { return b ? "Yes" : "No"; }

// rdisc6's "       1800 (0x00000708) seconds" and "unspecified (0x00000000)".
std::string duration(std::uint32_t value, const char* unit) {
  char text[64];
  if (value == 0)
    std::snprintf(text, sizeof text, "%12s (0x%08x)", "unspecified", value);
  else if (value == 0xffffffff)
    std::snprintf(text, sizeof text, "%12s (0x%08x)", "infinite", value);
  else
    std::snprintf(text, sizeof text, "%12u (0x%08x) %s", value, value, unit);
  return text;
}

std::string_view preference(std::uint8_t p) {
  switch (p) {
    case 1:
      return "high";
    case 3:
      return "low";
    case 2:
      return "reserved";
  }
  return "medium";
}

Address v6_target(const Args& args) {
  args.expect_positionals(1, 1, "the IPv6 address to ask for, e.g. fe80::1");
  const auto target = Address::parse(args.positionals()[0]);
  if (!target.is_v6())
    throw ParseError(quote(args.positionals()[0]) +
                     " is IPv4: NDP resolves IPv6 only (IPv4 uses ARP: `duplex arp ping`)");
  if (target.is_multicast() || target.is_unspecified())
    throw ParseError(quote(args.positionals()[0]) + " is not a unicast address");
  return target;
}

// The packet socket; without CAP_NET_RAW that is a usage problem (exit 2) with its fix.
link::NdpLink open_link(Interface interface) {
  if (interface.loopback)
    throw UsageError(interface.name + " is a loopback interface: no neighbours to discover");
  try {
    return link::NdpLink(std::move(interface));
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

Interface interface_for(const Args& args, const std::optional<Address>& target) {
  if (auto dev = args.value("dev")) {
    try {
      return Interface::by_name(*dev);
    } catch (const Error& e) {
      throw UsageError(e.what());  // a missing interface is bad input: exit 2
    }
  }
  if (!target || target->is_link_local())
    args.fail(
        "missing -I IF: " + std::string(target ? "a link-local address" : "the solicitation") +
        " needs an interface");
  return link::route_interface(*target);
}

int ping(const Args& args, bool dad) {
  const auto target = v6_target(args);
  if (dad && !args.has("dev")) args.fail("dad needs -I IF: the link the address would live on");
  auto link = open_link(interface_for(args, target));
  link::NdpPingOptions o;
  o.target = target;
  o.mode = dad ? link::NdpPingMode::dad : link::NdpPingMode::solicit;
  o.count = static_cast<unsigned>(args.number("count", 1, 1'000'000).value_or(dad ? 1 : 3));
  o.interval = arp::seconds_option(args, "interval", 0.01).value_or(std::chrono::seconds(1));
  o.stop_at_first = args.has("first");
  arp::install_interrupt_handler();
  o.stop = arp::interrupted;
  const auto& dev = link.interface().name;
  std::cout << (dad ? "DAD for " : "Soliciting ") << target.to_string() << " on " << dev << "...\n"
            << std::flush;
  const auto summary = link::ndp_ping(link, o, [&](const link::NdpPingReply& r) {
    if (!r.advertisement) {
      std::cout << "solicitation for " << target.to_string() << " from :: by "
                << bold(r.ethernet.to_string()) << "  (another node wants the address too)\n"
                << std::flush;
      return;
    }
    std::cout << "Target link-layer address: "
              << bold(r.mac ? r.mac->to_string() : std::string("none")) << "\n from "
              << r.source.to_string() << "  router=" << yes(r.router)
              << " solicited=" << yes(r.solicited) << " override=" << yes(r.override_flag)
              << "  seq=" << r.seq << " time=" << ms(r.rtt) << " ms\n"
              << std::flush;
  });
  std::cout << "--- " << target.to_string() << ": " << summary.sent
            << (summary.sent == 1 ? " solicitation" : " solicitations") << " sent, "
            << summary.received << (summary.received == 1 ? " answer" : " answers") << '\n';
  if (dad) {
    std::cout << (summary.received ? red("duplicate: " + target.to_string() + " is in use by " +
                                         summary.macs.front().to_string())
                                   : green(target.to_string() + " is unique: nobody answered"))
              << '\n';
    return summary.received ? 1 : 0;
  }
  if (summary.received == 0) std::cout << "No response.\n";
  return summary.received > 0 ? 0 : 1;
}

void print_advert(const link::RouterAdvertisement& a) {
  std::printf("\nHop limit                 : %12u (      0x%02x)\n", a.hop_limit, a.hop_limit);
  std::printf("Stateful address conf.    : %12s\n", yes(a.managed).c_str());
  std::printf("Stateful other conf.      : %12s\n", yes(a.other).c_str());
  std::printf("Mobile home agent         : %12s\n", yes(a.home_agent).c_str());
  std::printf("Router preference         : %12s\n", std::string(preference(a.preference)).c_str());
  std::printf("Neighbor discovery proxy  : %12s\n", yes(a.proxy).c_str());
  std::printf("Router lifetime           : %s\n", duration(a.lifetime, "seconds").c_str());
  std::printf("Reachable time            : %s\n", duration(a.reachable_ms, "milliseconds").c_str());
  std::printf("Retransmit time           : %s\n", duration(a.retrans_ms, "milliseconds").c_str());
  for (const auto& p : a.prefixes) {
    std::printf(" Prefix                   : %s/%u\n", p.prefix.to_string().c_str(), p.length);
    std::printf("  On-link                 : %12s\n", yes(p.on_link).c_str());
    std::printf("  Autonomous address conf.: %12s\n", yes(p.autonomous).c_str());
    std::printf("  Valid time              : %s\n", duration(p.valid_lifetime, "seconds").c_str());
    std::printf("  Pref. time              : %s\n",
                duration(p.preferred_lifetime, "seconds").c_str());
  }
  if (a.mtu) std::printf(" MTU                      : %12u bytes\n", *a.mtu);
  for (const auto& d : a.dns_servers)
    std::printf(" Recursive DNS server     : %s\n", d.to_string().c_str());
  if (a.source_mac)
    std::printf(" Source link-layer address: %s\n", a.source_mac->to_string().c_str());
  std::printf(" from %s  time=%s ms\n", a.source.to_string().c_str(), ms(a.rtt).c_str());
  std::fflush(stdout);
}

int routers(const Args& args) {
  args.expect_positionals(0, 0, "no argument besides -I IF");
  auto link = open_link(interface_for(args, std::nullopt));
  link::RouterSolicitOptions o;
  o.count = static_cast<unsigned>(args.number("count", 1, 1'000'000).value_or(3));
  o.interval = arp::seconds_option(args, "interval", 0.01).value_or(std::chrono::seconds(1));
  arp::install_interrupt_handler();
  o.stop = arp::interrupted;
  std::printf("Soliciting ff02::2 on %s...\n", link.interface().name.c_str());
  std::fflush(stdout);
  const unsigned n = link::ndp_routers(link, o, print_advert);
  if (n == 0) std::printf("No response.\n");
  return n > 0 ? 0 : 1;
}

}  // namespace

int ndp_main(Argv argv) {
  const std::string_view sub = argv.empty() ? "--help" : std::string_view(argv[0]);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::cout << kHelp;
    return 0;
  }
  if (sub != "ping" && sub != "dad" && sub != "routers")
    throw UsageError("unknown subcommand '" + std::string(sub) +
                     "' (ping, dad, routers); see 'duplex ndp --help'");
  std::vector<Option> options{{"dev", 'I', true}, {"count", 'c', true}, {"interval", 'i', true}};
  if (sub == "ping") options.push_back({"first", '1', false});
  Args args("duplex ndp " + std::string(sub), argv.subspan(1), std::move(options));
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  if (sub == "routers") return routers(args);
  return ping(args, sub == "dad");
}

}  // namespace duplex::cli
