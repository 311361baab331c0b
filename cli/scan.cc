// `duplex scan`: which ports of which hosts answer (apps/scan): a TCP connect scan (or a UDP
// scan) on the reactor, printed as nmap's table, JSON or nmap's grepable lines.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "duplex/apps/scan/report.h"
#include "duplex/apps/scan/scanner.h"
#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "output.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp = R"(Usage: duplex scan HOSTS... [-p PORTS | --top N] [OPTIONS]

Finds which ports of which hosts answer, as nmap's connect scan (-sT) does: a non-blocking
connect() to each port, thousands at once. A connection is "open", a reset (ECONNREFUSED) is
"closed", no answer after the retries or an ICMP error (host unreachable, admin-prohibited)
is "filtered". The timeout adapts to each host's round-trip time, measured from its answers
(srtt + 4 * rttvar, as TCP and nmap compute it). Hosts are not pinged first (nmap -Pn).
With -u, a UDP scan: an answer is "open", ICMP port unreachable "closed", other ICMP errors
"filtered", and silence "open|filtered".

HOSTS: addresses (192.0.2.1, 2001:db8::1), CIDRs (192.0.2.0/24), ranges (192.0.2.1-20,
192.0.2.1-192.0.2.20, 2001:db8::1-ff) and names; IPv4 and IPv6.

Ports:
  -p, --ports PORTS    22,80,443, ranges 1-1024, 8000- (to 65535), -p- for all 65535
      --top N          the N most common ports (nmap-services' frequencies; default: 1000)
  -s, --syn            a SYN scan (half-open, as nmap -sS): raw sockets, so root or
                       CAP_NET_RAW; no socket per port, so no --max-inflight clamp;
                       IPv4 and IPv6 (ICMPv6 unreachables read as filtered)
  -u, --udp            a UDP scan instead of TCP (Linux hosts rate-limit their ICMP errors,
                       so some closed ports are known only after the timeouts and retries)

Speed:
      --max-inflight N probes at once at most (default 1024; clamped to what RLIMIT_NOFILE
                       allows, with a warning). A scan starts with 64 and doubles them
                       while the CPU waits on the network (slow start): a nearby host
                       answers faster than the CPU can ask, a distant one needs more
      --rate N         at most N probes a second (default: no limit)
      --retries N      more tries for a probe that timed out (default 1)
      --max-rtt-timeout MS  the longest a probe waits (default 3000)

Output:
      --all            every port, not only the open ones
      --banner         show what each open TCP service says first (or its answer to a
                       minimal HTTP request), control characters escaped
      --json           one JSON object per host (ports, states, reasons, services, RTT)
  -G, --grepable       one line per host in nmap's grepable format (-oG)

Safety:
  -y, --yes            scan hosts outside this machine's subnets, or more than 65,536
                       addresses (a prefix larger than /16); without it such a scan is
                       refused. Scan only hosts you are allowed to scan.

Examples:
  duplex scan 127.0.0.1                       # the 1000 most common TCP ports
  duplex scan localhost -p 22,80,443,8000-8100
  duplex scan 192.168.1.0/24 -p 22 --all      # which hosts of the subnet have SSH
  duplex scan 10.0.0.1-20 --top 100 --json | jq -c '{host, open: [.ports[].port]}'
  duplex scan ::1 -p- --max-inflight 4000     # every port, IPv6
  sudo duplex scan fd00::10 --syn -p 1-1024    # half-open over IPv6, as nmap -6 -sS
  duplex scan 192.168.1.10 -p 1-1024 --rate 200
  duplex scan 192.168.1.10 --banner -p 21,22,25,80
  duplex scan 192.168.1.0/24 -p 80 -G | grep /open/
  duplex scan 127.0.0.1 -u -p 53,123,161      # UDP
  sudo duplex scan 192.168.1.10 --syn -p-     # half-open, as nmap -sS
  duplex scan scanme.nmap.org --yes -p 22,80  # outside the local subnets: --yes

Exit status: 0 the scan ran (whatever it found), 1 it failed (a name that does not
resolve), 2 usage error or bad input (port 0, a malformed range, a /8 without --yes).
)";

std::vector<std::uint16_t> choose_ports(const Args& args, scan::Protocol protocol) {
  if (args.has("ports") && args.has("top")) args.fail("give -p or --top, not both");
  if (args.has("ports")) return scan::parse_ports(*args.value("ports"));
  const auto n = args.number("top", 1, scan::top_ports_available(protocol));
  return scan::top_ports(protocol, n ? *n : 1000);
}

// A scan must never leave by accident: big or off-link scans need --yes.
std::vector<scan::Target> choose_targets(const Args& args) {
  std::vector<scan::TargetSpec> specs;
  for (const auto& word : args.positionals()) specs.push_back(scan::parse_target(word));
  const bool yes = args.has("yes");
  for (const auto& s : specs) {
    if (!yes && s.count() > 65536) {
      args.fail("'" + s.text + "' holds " + std::to_string(s.count()) +
                " addresses; a scan larger than a /16 needs --yes");
    }
  }
  auto targets = scan::expand_targets(specs);
  if (!yes) {
    const auto local = scan::local_prefixes();
    for (const auto& t : targets) {
      if (!scan::is_local(t.address, local)) {
        args.fail(t.address.to_string() +
                  " is outside this machine's subnets; scanning it needs --yes");
      }
    }
  }
  return targets;
}

std::size_t choose_inflight(const Args& args) {
  const std::size_t asked = args.number("max-inflight", 1, 1'000'000).value_or(1024);
  const std::size_t budget = scan::probe_fd_budget();
  if (asked <= budget) return asked;
  std::cerr << "duplex scan: --max-inflight " << asked << " is more than the " << budget
            << " sockets RLIMIT_NOFILE allows; using " << budget << " (raise it: ulimit -n)\n";
  return budget;
}

void print_progress(const scan::ScanProgress& p, std::chrono::steady_clock::duration elapsed) {
  const double s = std::chrono::duration<double>(elapsed).count();
  std::fprintf(stderr, "\r\033[K%llu/%llu ports (%.0f%%), %llu open, %zu/%zu hosts, %.0f s",
               static_cast<unsigned long long>(p.done), static_cast<unsigned long long>(p.total),
               p.total ? 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total) : 100.0,
               static_cast<unsigned long long>(p.open), p.hosts_done, p.hosts, s);
}

}  // namespace

int scan_main(Argv argv) {
  Args args("duplex scan", argv,
            {{"ports", 'p', true},
             {"top", 0, true},
             {"udp", 'u', false},
             {"syn", 's', false},
             {"max-inflight", 0, true},
             {"rate", 0, true},
             {"retries", 0, true},
             {"max-rtt-timeout", 0, true},
             {"all", 0, false},
             {"banner", 0, false},
             {"json", 0, false},
             {"grepable", 'G', false},
             {"yes", 'y', false}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  if (args.positionals().empty())
    args.fail("give the hosts to scan (an address, a CIDR, a range or a name)");
  if (args.has("json") && args.has("grepable")) args.fail("give --json or -G, not both");
  scan::ScanOptions options;
  options.protocol = args.has("udp") ? scan::Protocol::udp : scan::Protocol::tcp;
  options.syn = args.has("syn");
  if (options.syn && options.protocol == scan::Protocol::udp)
    args.fail("give --syn or -u, not both");
  if (options.syn && args.has("banner")) args.fail("--banner needs connections; leave out --syn");
  if (args.has("banner") && options.protocol == scan::Protocol::udp) {
    args.fail("--banner reads TCP services; leave out -u");
  }
  auto ports = choose_ports(args, options.protocol);
  auto targets = choose_targets(args);
  options.max_inflight = options.syn ? args.number("max-inflight", 1, 1'000'000).value_or(1024)
                                     : choose_inflight(args);
  options.rate = static_cast<double>(args.number("rate", 1, 10'000'000).value_or(0));
  options.retries = static_cast<unsigned>(args.number("retries", 0, 10).value_or(1));
  if (auto ms = args.number("max-rtt-timeout", 10, 600'000)) {
    options.rtt.max = std::chrono::milliseconds(*ms);
    options.rtt.min = std::min(options.rtt.min, options.rtt.max);
    options.rtt.initial = std::min(options.rtt.initial, options.rtt.max);
  }
  options.banner = args.has("banner");

  const auto services = scan::Services::load();
  const scan::ReportOptions report{args.has("all")};
  const bool json = args.has("json"), grepable = args.has("grepable");
  const std::size_t host_count = targets.size(), port_count = ports.size();

  EventLoop loop;
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&](int) { loop.quit(); });
  scan::Scanner scanner(loop, std::move(targets), std::move(ports), options);
  const bool progress = ::isatty(STDERR_FILENO) == 1;
  const auto started = std::chrono::steady_clock::now();
  bool first = true, finished = false;
  auto clear_progress = [&] {
    if (progress) std::fputs("\r\033[K", stderr);
  };
  scanner.on_host([&](scan::HostResult r) {
    clear_progress();
    if (json) {
      print_json(scan::json_report(r, services, report));
    } else if (grepable) {
      std::cout << scan::grepable_report(r, services);
    } else {
      std::cout << (first ? "" : "\n") << scan::text_report(r, services, report);
    }
    std::cout.flush();
    first = false;
  });
  scanner.on_done([&] {
    finished = true;
    loop.quit();
  });
  TimerId ticker;
  if (progress) {
    ticker = loop.run_every(std::chrono::seconds(1), [&] {
      print_progress(scanner.progress(), std::chrono::steady_clock::now() - started);
    });
  }
  scanner.start();
  if (!finished) loop.loop();
  if (ticker) loop.cancel(ticker);
  clear_progress();
  if (!finished) {
    std::cerr << "duplex scan: interrupted\n";
    return 1;
  }
  if (!json && !grepable) {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char line[160];
    std::snprintf(line, sizeof line, "\nscanned %zu host%s, %zu %s port%s each, in %.2f s\n",
                  host_count, host_count == 1 ? "" : "s", port_count,
                  options.protocol == scan::Protocol::tcp ? "TCP" : "UDP",
                  port_count == 1 ? "" : "s", s);
    std::cout << line;
  }
  return 0;
}

}  // namespace duplex::cli
