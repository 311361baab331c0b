// `duplex arp ping`: ARP requests on a packet socket, like iputils arping.
#include <signal.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "arp.h"
#include "duplex/base/error.h"
#include "duplex/base/strings.h"
#include "duplex/inet/address.h"
#include "duplex/link/arp_ping.h"
#include "duplex/link/interface.h"
#include "output.h"

namespace duplex::cli::arp {
namespace {

using inet::Address;
using link::ArpPingMode;
using link::Interface;
using Json = nlohmann::json;

constexpr std::string_view kHelp =
    R"(Usage: duplex arp ping IP [--dev IF] [-c N] [-w DEADLINE] [-i INTERVAL] [--json]
                       [--dad | --gratuitous | --gratuitous-reply] [--source IP]

Asks the link who holds IP, with ARP requests broadcast on a packet socket (like iputils
arping), and prints every reply: the MAC address, its vendor, the round-trip time. Every
request is broadcast, so a second host that answers for the same IP shows up on any round.

Without --dev, the interface is the one the route to IP leaves by; it is an error when IP
is behind a gateway (ARP reaches only the local link) or when more than one interface has
a subnet holding IP.

Options:
  --dev IF          the interface to ask on
  -c, --count N     stop after N requests; with -w, stop after N replies instead
  -w, --deadline S  stop after S seconds (decimals allowed), whatever else happens
  -i, --interval S  seconds between requests (default 1, at least 0.01)
  --source IP       the sender IP of the requests (default: ours on IP's subnet)
  --dad             duplicate address detection (RFC 5227): probe with sender IP 0.0.0.0,
                    so that nobody learns from us; stops at the first answer (a claim, or
                    another host probing for the same address)
  --gratuitous      announce IP as ours with our MAC (a gratuitous request), so that
                    every neighbour updates its entry; expects no answer
  --gratuitous-reply  the same announcement as an unsolicited reply
  --json            one JSON object per line: {"type":"reply", ip, mac, vendor, ethernet,
                    broadcast, probe, seq, rtt_ms} for each reply, then {"type":"summary", ip, dev,
                    source, mode, sent, received, macs, duplicate}

Without -c or -w it runs until Ctrl-C. Needs CAP_NET_RAW: run as root, or once
`sudo setcap cap_net_raw,cap_net_admin+ep $(command -v duplex)`.

Examples:
  sudo duplex arp ping 192.168.1.1 -c 3
  sudo duplex arp ping 192.168.1.1 --dev eth0 -w 2 --json
  sudo duplex arp ping 192.168.1.77 --dev eth0 --dad -w 2     # is 192.168.1.77 free?
  sudo duplex arp ping 192.168.1.10 --dev eth0 --gratuitous -c 2

Exit status: 0 answered by one MAC (or: DAD found nobody; gratuitous frames sent),
1 no answer, more than one MAC answered, or DAD found a duplicate; 2 bad input.
)";

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int) { g_interrupted = 1; }

std::string_view mode_name(ArpPingMode m) {
  switch (m) {
    case ArpPingMode::dad:
      return "dad";
    case ArpPingMode::gratuitous_request:
      return "gratuitous";
    case ArpPingMode::gratuitous_reply:
      return "gratuitous-reply";
    case ArpPingMode::request:
      break;
  }
  return "request";
}

}  // namespace

std::string ms(std::chrono::nanoseconds d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", static_cast<double>(d.count()) / 1e6);
  return text;
}

std::optional<std::chrono::nanoseconds> seconds_option(const Args& args, std::string_view name,
                                                       double min) {
  auto text = args.value(name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  const double s = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size() || !std::isfinite(s) || s < min ||
      s > 86400.0 * 365)
    args.fail("--" + std::string(name) + " " + quote(*text) +
              " must be a number of seconds, at least " + std::to_string(min).substr(0, 4));
  return std::chrono::nanoseconds(static_cast<std::int64_t>(s * 1e9));
}

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the wait returns and the loop sees the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return g_interrupted != 0; }

int ping_main(Argv argv) {
  Args args("duplex arp ping", argv,
            {{"dev", 0, true},
             {"count", 'c', true},
             {"deadline", 'w', true},
             {"interval", 'i', true},
             {"source", 0, true},
             {"dad", 0, false},
             {"gratuitous", 0, false},
             {"gratuitous-reply", 0, false},
             {"json", 0, false}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  args.expect_positionals(1, 1, "the IPv4 address to ask for, e.g. 192.168.1.1");
  const auto target = Address::parse(args.positionals()[0]);
  if (!target.is_v4())
    throw ParseError(quote(args.positionals()[0]) +
                     " is IPv6: ARP resolves IPv4 only (IPv6 uses NDP; see `duplex arp show`)");
  const int modes =
      int{args.has("dad")} + int{args.has("gratuitous")} + int{args.has("gratuitous-reply")};
  if (modes > 1) args.fail("choose one of --dad, --gratuitous, --gratuitous-reply");

  link::ArpPingOptions o;
  o.target = target;
  o.mode = args.has("dad")                ? ArpPingMode::dad
           : args.has("gratuitous")       ? ArpPingMode::gratuitous_request
           : args.has("gratuitous-reply") ? ArpPingMode::gratuitous_reply
                                          : ArpPingMode::request;
  if (o.mode != ArpPingMode::request && !args.has("dev"))
    args.fail("--" + std::string(mode_name(o.mode)) +
              " needs --dev IF: it speaks for an address "
              "that has no route to choose an interface by");
  o.interface =
      args.value("dev") ? Interface::by_name(*args.value("dev")) : link::route_interface(target);
  if (!o.interface.arp || o.interface.loopback)
    throw Error(o.interface.name + " does not use ARP (loopback or NOARP); choose another --dev");
  if (auto s = args.value("source")) o.source = Address::parse(*s);
  o.count = static_cast<unsigned>(args.number("count", 1, 1'000'000).value_or(0));
  o.deadline = seconds_option(args, "deadline", 0.001);
  o.interval = seconds_option(args, "interval", 0.01).value_or(std::chrono::seconds(1));
  install_interrupt_handler();
  o.stop = interrupted;

  const bool json = args.has("json");
  if (!json)
    std::cout << "ARP " << (o.mode == ArpPingMode::request ? "ping" : mode_name(o.mode)) << ' '
              << target.to_string() << " on " << o.interface.name << " from "
              << (o.mode == ArpPingMode::request
                      ? (o.source ? o.source->to_string()
                                  : o.interface.source_for(target).value_or(Address()).to_string())
                  : o.mode == ArpPingMode::dad ? std::string("0.0.0.0")
                                               : target.to_string())
              << ' ' << o.interface.mac.to_string() << '\n'
              << std::flush;

  const auto summary = link::arp_ping(o, [&](const link::ArpPingReply& r) {
    if (json) {
      print_json({{"type", "reply"},
                  {"ip", r.ip.to_string()},
                  {"mac", r.mac.to_string()},
                  {"vendor", vendor_json(r.mac)},
                  {"ethernet", r.ethernet.to_string()},
                  {"broadcast", r.broadcast},
                  {"probe", r.probe},
                  {"seq", r.seq},
                  {"rtt_ms", static_cast<double>(r.rtt.count()) / 1e6}});
      std::cout << std::flush;
      return;
    }
    if (r.probe) {
      std::cout << "probe for " << r.ip.to_string() << " from " << bold(r.mac.to_string()) << "  "
                << dim(vendor_text(r.mac)) << "  (another host wants the address too)\n"
                << std::flush;
      return;
    }
    std::cout << (r.broadcast ? "broadcast" : "unicast") << " reply from " << r.ip.to_string()
              << " is-at " << bold(r.mac.to_string()) << "  " << dim(vendor_text(r.mac))
              << "  seq=" << r.seq << " time=" << ms(r.rtt) << " ms";
    if (r.ethernet != r.mac) std::cout << "  (ethernet source " << r.ethernet.to_string() << ")";
    std::cout << '\n' << std::flush;
  });

  const bool duplicate = summary.macs.size() > 1;
  if (json) {
    Json macs = Json::array();
    for (const auto& m : summary.macs) macs.push_back(m.to_string());
    print_json({{"type", "summary"},
                {"ip", target.to_string()},
                {"dev", o.interface.name},
                {"source", summary.source.to_string()},
                {"mode", mode_name(o.mode)},
                {"sent", summary.sent},
                {"received", summary.received},
                {"macs", macs},
                {"duplicate", duplicate || (o.mode == ArpPingMode::dad && summary.received > 0)}});
  } else {
    std::cout << "--- " << target.to_string() << ": " << summary.sent
              << (summary.sent == 1 ? " frame" : " frames") << " sent, " << summary.received
              << (summary.received == 1 ? " reply" : " replies") << '\n';
    if (duplicate) {
      std::cout << red("more than one MAC answers for " + target.to_string() + ":");
      for (const auto& m : summary.macs) std::cout << ' ' << m.to_string();
      std::cout << '\n';
    }
    if (o.mode == ArpPingMode::dad)
      std::cout << (summary.received ? red("duplicate: " + target.to_string() + " is in use by " +
                                           summary.macs.front().to_string())
                                     : green(target.to_string() + " is free: nobody answered"))
                << '\n';
  }
  switch (o.mode) {
    case ArpPingMode::dad:
      return summary.received ? 1 : 0;
    case ArpPingMode::gratuitous_request:
    case ArpPingMode::gratuitous_reply:
      return summary.sent ? 0 : 1;
    case ArpPingMode::request:
      break;
  }
  return summary.received > 0 && !duplicate ? 0 : 1;
}

}  // namespace duplex::cli::arp
