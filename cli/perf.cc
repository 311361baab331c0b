// `duplex perf`: a throughput test that speaks iperf3's protocol (apps/perf), as a server
// (-s) or a client (-c HOST), against duplex or a real iperf3.
#include <unistd.h>
#include <cmath>

#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "args.h"
#include "bind_address.h"
#include "commands.h"
#include "duplex/apps/perf/perf_client.h"
#include "duplex/apps/perf/perf_compare.h"
#include "duplex/apps/perf/perf_live.h"
#include "duplex/apps/perf/perf_report_to.h"
#include "duplex/apps/perf/perf_server.h"
#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_client.h"
#include "output.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp = R"(Usage: duplex perf -s [-p PORT] [-1] [OPTIONS]
       duplex perf -c HOST [-p PORT] [-u] [-R] [-P N] [-t S] [-b RATE] [OPTIONS]

Measures throughput between two hosts with iperf3's own protocol, so either end may be a
real iperf3: `iperf3 -c` against `duplex perf -s`, or `duplex perf -c` against `iperf3 -s`.
The client sends for -t seconds (or -n bytes) over -P parallel streams, TCP or UDP; with
-R the server sends instead. Every interval (-i) shows each stream's bytes and rate, and
for a TCP sender what the kernel's TCP_INFO says: retransmissions, the congestion window,
the RTT (its variation and the delivery rate in --json). For UDP the receiver counts loss,
reordering and jitter (RFC 3550, as iperf3 computes it). At the end both ends' totals are
shown side by side: what the sender sent and what the receiver got.

Server:
  -s, --server         run the server (one test at a time; others get ACCESS_DENIED)
  -1, --one-off        serve one test, then exit (0 if it went well, 1 if not)
  -B, --bind ADDR      listen on this address (default [::], which takes IPv4 too)

Client:
  -c, --client HOST    run a test against HOST (a name, an IPv4 or an IPv6 address)
  -u, --udp            UDP instead of TCP (default rate 1 Mbit/s, as iperf3)
  -R, --reverse        the server sends, the client receives
  -P, --parallel N     N streams at once (1 to 128; default 1)
  -t, --time S         seconds to send (default 10)
  -n, --bytes N        send N bytes instead of a time (K, M, G: x1024)
  -k, --blockcount N   send N blocks (writes or datagrams) instead of a time
  -b, --bitrate RATE   bits/s per stream (K, M, G: x1000; 0: unlimited); TCP too
  -l, --length N       bytes per write (TCP, default 128K) or per datagram (UDP, default
                       the path's MSS)
  -C, --congestion ALG TCP congestion control on both ends: cubic, reno, bbr...
                       (/proc/sys/net/ipv4/tcp_available_congestion_control)
  -O, --omit S         leave the first S seconds (slow start) out of the totals; their
                       intervals are marked omitted. The test runs -t plus -O seconds
  -w, --window N       socket buffer size (SO_SNDBUF and SO_RCVBUF) on both ends
  -N, --no-delay       TCP_NODELAY on the streams
  --udp-64bit          64-bit UDP sequence numbers (iperf3 --udp-counters-64bit)
  --connect-timeout MS give up connecting after MS milliseconds (default 10000)
  --report-to URL      also send each interval and the end to a `duplex serve` (its
                       dashboard URL, http://HOST:PORT), whose Perf page shows the run
                       live ("watching"); needs --token
  --token TOKEN        the token that duplex serve printed (its dashboard URL's ?token=)
  --compare            run the test over TCP, then over UDP at the goodput TCP reached,
                       and print the two side by side: bytes sent and delivered, loss,
                       reordering, goodput, retransmissions, RTT and jitter. With --json,
                       one document {"tcp": report, "udp": report, "compare": {...}}

Both:
  -p, --port PORT      the control port, also used by the data streams (default 5201)
  -i, --interval S     seconds between reports (default 1; 0: none)
  -J, --json           iperf3's JSON document (start, intervals, end) on one line; the
                       server prints one per test, and its "listening" line on stderr
  -h, --help           this help

Examples:
  duplex perf -s                               # serve tests on port 5201
  duplex perf -c 192.0.2.10                    # 10 s of TCP to it
  duplex perf -c ::1 -t 5 -P 4 -C bbr          # 4 TCP streams with BBR for 5 s
  duplex perf -c host -R                       # the server sends (download)
  duplex perf -c host -u -b 100M -l 1400       # UDP at 100 Mbit/s: loss, jitter
  duplex perf -c host --json | jq '.end.sum_received.bits_per_second'
  duplex perf -c host --compare -t 5           # TCP, then UDP at TCP's rate: the table
  duplex perf -c host --compare -R --json | jq .compare.udp.reordered
  iperf3 -c host -p 5201                       # a real iperf3 against duplex perf -s
  duplex perf -c host -t 30 --report-to http://127.0.0.1:8080 --token TOKEN
                                               # and watch it on the dashboard's Perf page
  duplex perf -s -p 0 -1                       # any free port, one test, then exit

Exit status: 0 the test ran, 1 it failed (refused, the peer vanished, a timeout), 2 usage
error.
)";

// "128K" -> 131072 (x1024), as iperf3 reads sizes; "10M" -> 10000000 with base 1000, as it
// reads rates.
std::uint64_t parse_scaled(const Args& args, std::string_view name, std::uint64_t base) {
  const std::string text = *args.value(name);
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    args.fail("--" + std::string(name) + " '" + text + "' is not a number (e.g. 10M)");
  }
  double scale = 1;
  if (used < text.size()) {
    switch (text[used]) {
      case 'k':
      case 'K':
        scale = static_cast<double>(base);
        break;
      case 'm':
      case 'M':
        scale = static_cast<double>(base * base);
        break;
      case 'g':
      case 'G':
        scale = static_cast<double>(base * base * base);
        break;
      case 't':
      case 'T':
        scale = static_cast<double>(base * base * base * base);
        break;
      default:
        args.fail("--" + std::string(name) + " '" + text + "': unknown unit (K, M, G)");
    }
    ++used;
  }
  if (used != text.size() || !(value >= 0) || value * scale > 1.8e19)
    args.fail("--" + std::string(name) + " '" + text + "' is not a size (e.g. 10M)");
  return static_cast<std::uint64_t>(std::llround(value * scale));
}

void print_text(const std::string& text) {
  std::cout << text;
  std::cout.flush();
}

int run_server(const Args& args, std::uint16_t port, double interval, bool json) {
  apps::perf::ServerOptions options;
  options.listen = bind_endpoint(args.value("bind"), port);
  options.interval = interval;
  options.json = json;
  options.version = "duplex 0.1.0";
  EventLoop loop;
  apps::perf::Server server(&loop, options);
  const bool one_off = args.has("one-off");
  bool last_ok = true;
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&](int) {
    server.terminate();
    loop.quit();
  });
  server.on_text(print_text);
  server.on_json([](const nlohmann::json& doc) {
    print_json(doc);
    std::cout.flush();  // a reader waits for each test's document
  });
  server.on_error([](const std::string& why) { std::cerr << "duplex perf: " << why << '\n'; });
  server.on_test_done([&](bool ok) {
    last_ok = ok;
    if (!json) print_text("-----------------------------------------------------------\n");
    if (one_off) loop.quit();
  });
  const std::string listening = "Server listening on " + server.listen_endpoint().to_string() +
                                " (port " + std::to_string(server.listen_endpoint().port()) + ")\n";
  if (json) {
    std::cerr << listening;
  } else {
    print_text(listening);
  }
  loop.loop();
  return one_off && !last_ok ? 1 : 0;
}

int run_client(const Args& args, const std::string& host, std::uint16_t port, double interval,
               bool json) {
  apps::perf::ClientOptions options;
  apps::perf::TestParameters& p = options.params;
  p.protocol = args.has("udp") ? apps::perf::Protocol::kUdp : apps::perf::Protocol::kTcp;
  p.reverse = args.has("reverse");
  p.parallel = static_cast<std::uint32_t>(args.number("parallel", 1, 128).value_or(1));
  p.time = static_cast<std::uint32_t>(args.number("time", 0, 86400).value_or(10));
  if (args.has("bytes")) {
    p.num = parse_scaled(args, "bytes", 1024);
    if (!args.has("time")) p.time = 0;
  }
  if (args.has("blockcount")) {
    p.blockcount = args.number("blockcount", 1, ~0ull).value_or(0);
    if (!args.has("time")) p.time = 0;
  }
  if (p.time == 0 && p.num == 0 && p.blockcount == 0)
    args.fail("-t 0 needs -n BYTES or -k BLOCKS: the test would never end");
  if (args.has("bitrate")) {
    p.bandwidth = parse_scaled(args, "bitrate", 1000);
  } else if (p.protocol == apps::perf::Protocol::kUdp) {
    p.bandwidth = apps::perf::kDefaultUdpRate;
  }
  if (p.reverse && p.time == 0)
    args.fail("-n/-k count what the client sends; with -R give a time (-t S)");
  if (args.has("length")) {
    const std::uint64_t len = parse_scaled(args, "length", 1024);
    const std::uint64_t max = p.protocol == apps::perf::Protocol::kUdp ? 65507 : (1u << 27);
    if (len < (p.protocol == apps::perf::Protocol::kUdp ? 16u : 1u) || len > max)
      args.fail("--length " + std::to_string(len) + " is out of range (UDP: 16 to 65507)");
    p.len = static_cast<std::uint32_t>(len);
  }
  if (auto c = args.value("congestion")) p.congestion = *c;
  if (args.has("window"))
    p.window = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(parse_scaled(args, "window", 1024), 1u << 30));
  p.nodelay = args.has("no-delay");
  p.omit = static_cast<std::uint32_t>(args.number("omit", 0, 600).value_or(0));
  p.udp_counters_64bit = args.has("udp-64bit");
  p.client_version = "3.12";  // the protocol we speak, as iperf3 names its own version
  options.host = host;
  options.interval = interval;
  options.json = json;
  options.version = "duplex 0.1.0";
  options.connect_timeout =
      std::chrono::milliseconds(args.number("connect-timeout", 1, 3'600'000).value_or(10'000));
  std::optional<apps::perf::ReportUrl> report_url;
  if (auto url = args.value("report-to")) {
    std::string bad_url;
    report_url = apps::perf::parse_report_url(*url, bad_url);
    if (!report_url) args.fail(bad_url);
    if (!args.has("token"))
      args.fail("--report-to needs --token TOKEN: the token of duplex serve's dashboard URL");
  } else if (args.has("token")) {
    args.fail("--token goes with --report-to URL (duplex serve's dashboard)");
  }
  options.servers = TcpClient::resolve(host, port);

  if (args.has("compare")) {
    if (p.protocol == apps::perf::Protocol::kUdp)
      args.fail("--compare runs TCP then UDP itself; leave out -u");
    if (p.num != 0 || p.blockcount != 0)
      args.fail("--compare runs both tests for a time; use -t, not -n or -k");
    if (args.has("report-to")) args.fail("--report-to reports one test; leave out --compare");
  }
  EventLoop loop;
  bool ok = false;
  std::string why;
  const auto done = [&](bool good, const std::string& reason) {
    ok = good;
    why = reason;
    loop.quit();
  };
  const auto print_doc = [](const nlohmann::json& doc) {
    print_json(doc);
    std::cout.flush();
  };
  if (args.has("compare")) {
    apps::perf::Compare compare(&loop, options);
    SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&](int) { compare.terminate(); });
    compare.on_text(print_text);
    compare.on_json(print_doc);
    compare.on_finished(done);
    compare.start();
    loop.loop();
    if (!ok) std::cerr << "duplex perf: " << why << '\n';
    return ok ? 0 : 1;
  }
  apps::perf::Client client(&loop, options);
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&](int) { client.terminate(); });
  client.on_text(print_text);
  client.on_json(print_doc);
  client.on_finished(done);
  std::unique_ptr<apps::perf::ReportTo> report;
  if (report_url) {
    report = std::make_unique<apps::perf::ReportTo>(&loop, *report_url, *args.value("token"));
    report->on_error([](const std::string& line) { std::cerr << "duplex perf: " << line << '\n'; });
    const std::string run =
        "cli-" + std::to_string(::getpid()) + "-" +
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000);
    report->post(apps::perf::live_started({run, "cli", host, port, p}));
    // The callbacks outlive this block: they own what is declared in it.
    client.on_interval([&, run, index = 0](const apps::perf::Interval& sample) mutable {
      report->post(apps::perf::live_interval(run, index++, sample, p.protocol));
    });
    client.on_finished([&, run](bool good, const std::string& reason) {
      ok = good;
      why = reason;
      report->post(apps::perf::live_end(run, client.report(), good, reason));
      report->flush([&loop] { loop.quit(); });
    });
  }
  client.start();
  loop.loop();
  if (!ok) {
    std::cerr << "duplex perf: " << why << '\n';
    return 1;
  }
  if (!json) print_text("\nperf Done.\n");
  return 0;
}

}  // namespace

int perf_main(Argv argv) {
  Args args("duplex perf", argv,
            {{"server", 's', false},   {"client", 'c', true},        {"port", 'p', true},
             {"one-off", '1', false},  {"bind", 'B', true},          {"udp", 'u', false},
             {"reverse", 'R', false},  {"parallel", 'P', true},      {"time", 't', true},
             {"bytes", 'n', true},     {"blockcount", 'k', true},    {"bitrate", 'b', true},
             {"length", 'l', true},    {"congestion", 'C', true},    {"window", 'w', true},
             {"no-delay", 'N', false}, {"udp-64bit", 0, false},      {"interval", 'i', true},
             {"json", 'J', false},     {"connect-timeout", 0, true}, {"omit", 'O', true},
             {"compare", 0, false},    {"report-to", 0, true},       {"token", 0, true}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  args.expect_positionals(0, 0, "no arguments; use -s, or -c HOST");
  const bool server = args.has("server");
  const auto host = args.value("client");
  if (server == host.has_value()) args.fail("give -s (server) or -c HOST (client), one of them");
  const auto port = static_cast<std::uint16_t>(args.number("port", 0, 65535).value_or(5201));
  double interval = 1;
  if (auto i = args.value("interval")) {
    try {
      interval = std::stod(*i);
    } catch (const std::exception&) {
      interval = -1;
    }
    if (!(interval == 0 || (interval >= 0.1 && interval <= 60)))
      args.fail("--interval '" + *i + "' must be 0 (none) or 0.1 to 60 seconds");
  }
  const bool json = args.has("json");
  if (server) {
    for (const char* client_only :
         {"udp", "reverse", "parallel", "time", "bytes", "bitrate", "compare", "report-to"}) {
      if (args.has(client_only))
        args.fail(std::string("--") + client_only +
                  " is a client option: the client chooses the test");
    }
    return run_server(args, port, interval, json);
  }
  if (port == 0) args.fail("--port 0 is for the server; give the server's port");
  return run_client(args, *host, port, interval, json);
}

}  // namespace duplex::cli
