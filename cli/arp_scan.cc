// `duplex arp scan`: ARP-sweep a local subnet at a bounded rate.
#include <cstdio>
#include <iostream>

#include "args.h"
#include "arp.h"
#include "duplex/base/error.h"
#include "duplex/inet/prefix.h"
#include "duplex/link/arp_scan.h"
#include "duplex/link/interface.h"
#include "output.h"

namespace duplex::cli::arp {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kHelp =
    R"(Usage: duplex arp scan PREFIX --dev IF [--rate PPS] [--rounds N] [--wait S] [--json]

Sends one ARP request to every address of PREFIX on interface IF, at most PPS requests a
second, and lists who answered: IP, MAC, vendor, round-trip time. Addresses that stay
silent are asked again in the following rounds. An IP answered by two MACs is listed twice
and marked. At most a /16 (65,536 addresses) per scan.

Options:
  --dev IF      the interface to sweep (required: a scan floods the link it runs on)
  --rate PPS    requests per second, 1 to 5000 (default 100)
  --rounds N    passes over the silent addresses, 1 to 5 (default 2)
  --wait S      seconds an address has to answer before it is asked again, and the
                wait for late replies after the last pass (default 0.5)
  --source IP   the sender IP of the requests (default: ours on PREFIX's subnet)
  --json        one JSON object per line: {"type":"host", ip, mac, vendor, rtt_ms,
                duplicate} per answer as it comes, then {"type":"summary", prefix, dev,
                source, addresses, sent, answered, duplicates}

Needs CAP_NET_RAW: run as root, or `sudo setcap cap_net_raw+ep $(command -v duplex)`.

Examples:
  sudo duplex arp scan 192.168.1.0/24 --dev eth0
  sudo duplex arp scan 10.0.0.0/22 --dev eth0 --rate 500 --json

Exit status: 0 at least one host answered, 1 nobody answered, 2 bad input.
)";

}  // namespace

int scan_main(Argv argv) {
  Args args("duplex arp scan", argv,
            {{"dev", 0, true},
             {"rate", 0, true},
             {"rounds", 0, true},
             {"wait", 0, true},
             {"source", 0, true},
             {"json", 0, false}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  args.expect_positionals(1, 1, "the prefix to sweep, e.g. 192.168.1.0/24");
  link::ArpScanOptions o;
  o.prefix = inet::Prefix::parse(args.positionals()[0]);
  if (!o.prefix.address().is_v4())
    throw ParseError(o.prefix.to_string() + " is IPv6: ARP scans IPv4 only");
  if (const auto n = o.prefix.host_count(); !n || *n > link::ArpScanOptions::kMaxAddresses)
    throw ParseError(o.prefix.to_string() +
                     " is too large: at most a /16 per scan; split it with `duplex ip split`");
  auto dev = args.value("dev");
  if (!dev) args.fail("missing --dev IF: name the link to sweep");
  o.interface = link::Interface::by_name(*dev);
  o.rate = static_cast<unsigned>(args.number("rate", 1, 5000).value_or(100));
  o.rounds = static_cast<unsigned>(args.number("rounds", 1, 5).value_or(2));
  if (auto w = seconds_option(args, "wait", 0.0)) o.wait = *w;
  if (auto s = args.value("source")) o.source = inet::Address::parse(*s);
  install_interrupt_handler();
  o.stop = interrupted;

  const bool json = args.has("json");
  std::vector<inet::Address> answered;
  std::size_t duplicates = 0;
  const auto result = link::arp_scan(o, [&](const link::ArpScanHost& h) {
    const bool duplicate = std::find(answered.begin(), answered.end(), h.ip) != answered.end();
    if (duplicate) ++duplicates;
    answered.push_back(h.ip);
    const double rtt = static_cast<double>(h.rtt.count()) / 1e6;
    if (json) {
      print_json({{"type", "host"},
                  {"ip", h.ip.to_string()},
                  {"mac", h.mac.to_string()},
                  {"vendor", vendor_json(h.mac)},
                  {"rtt_ms", rtt},
                  {"duplicate", duplicate}});
    } else {
      char line[160];
      std::snprintf(line, sizeof line, "%-16s %s  %8.3f ms  ", h.ip.to_string().c_str(),
                    h.mac.to_string().c_str(), rtt);
      std::cout << line << dim(vendor_text(h.mac));
      if (duplicate) std::cout << "  " << red("duplicate IP: a second MAC answers");
      std::cout << '\n';
    }
    std::cout << std::flush;
  });
  std::sort(answered.begin(), answered.end());
  answered.erase(std::unique(answered.begin(), answered.end()), answered.end());
  if (json) {
    print_json({{"type", "summary"},
                {"prefix", o.prefix.to_string()},
                {"dev", o.interface.name},
                {"source", result.source.to_string()},
                {"addresses", result.addresses},
                {"sent", result.sent},
                {"answered", answered.size()},
                {"duplicates", duplicates}});
  } else {
    std::cerr << answered.size() << " of " << result.addresses << " addresses answered ("
              << result.sent << " requests sent on " << o.interface.name << " from "
              << result.source.to_string() << ")\n";
  }
  return answered.empty() ? 1 : 0;
}

}  // namespace duplex::cli::arp
