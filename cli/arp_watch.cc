// `duplex arp watch`: a passive ARP monitor with an SQLite station database.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>

#include "args.h"
#include "arp.h"
#include "duplex/base/error.h"
#include "duplex/inet/icmpv6.h"
#include "duplex/link/arp_frame.h"
#include "duplex/link/arp_watch.h"
#include "duplex/link/interface.h"
#include "duplex/link/ndp.h"
#include "duplex/link/packet_socket.h"
#include "duplex/link/station_db.h"
#include "output.h"

namespace duplex::cli::arp {
namespace {

using link::StationEvent;
using link::StationEventKind;
using Json = nlohmann::json;

constexpr std::string_view kHelp =
    R"(Usage: duplex arp watch [--dev IF] [--db FILE] [--json] [--exec CMD] [-c N] [-w SECONDS]
                        [--arp-only]

Listens to the ARP traffic of the link, passively (it sends nothing), in the manner of
arpwatch, and remembers which MAC claims which IPv4 address in an SQLite station database.
IPv6 stations go into the same database, from neighbour discovery: an advertisement's
target link-layer address claims its target, a solicitation's or a router advertisement's
source link-layer address claims its source (a solicitation from ::, DAD, claims nothing).
It reports, one line (or one JSON object) per event:

  new station                  an IP seen for the first time
  changed ethernet address     an IP now claimed by a MAC it never had (a new NIC, or ARP
                               spoofing)
  flip flop                    an IP back to the MAC it had just before: two stations
                               fighting over one address, typically a spoofer and its victim
  reused old ethernet address  an IP back to a MAC it had earlier, but not the last one
  ethernet mismatch            the Ethernet source differs from the ARP sender MAC
  bogon                        a sender IPv4 address outside every subnet of the interface

A repeated mismatch or bogon is reported once per 5 minutes per station, and floods of
other events are capped at 20 a second; a change of MAC is always reported at once.

Options:
  --dev IF      the interface to watch (default: every interface that is up and uses ARP)
  --db FILE     the station database (default: $XDG_DATA_HOME/duplex/arpwatch.db, or
                ~/.local/share/duplex/arpwatch.db); it also logs every event reported
  --json        one JSON object per event: time, event (new_station,
                changed_ethernet_address, flip_flop, reused_old_address, ethernet_mismatch,
                bogon), dev, ip, mac, vendor, old_mac, old_vendor, ethernet, op ("request",
                "reply"; for IPv6 "neighbor advertisement", "neighbor solicitation",
                "router advertisement", "router solicitation")
  --exec CMD    run CMD with /bin/sh for each event, with DUPLEX_EVENT, DUPLEX_DEV,
                DUPLEX_IP, DUPLEX_MAC, DUPLEX_OLD_MAC, DUPLEX_ETHERNET, DUPLEX_VENDOR and
                DUPLEX_JSON in its environment (at most 8 hooks run at once)
  --arp-only    IPv4 stations only: no packet socket for IPv6 neighbour discovery
  -c, --count N     stop after N events
  -w, --deadline S  stop after S seconds

Runs until Ctrl-C otherwise. Needs CAP_NET_RAW: run as root, or
`sudo setcap cap_net_raw+ep $(command -v duplex)`.

Examples:
  sudo duplex arp watch --dev eth0
  sudo duplex arp watch --dev eth0 --json --db /var/lib/duplex/arpwatch.db
  sudo duplex arp watch --exec 'logger -t arpwatch "$DUPLEX_EVENT $DUPLEX_IP $DUPLEX_MAC"'

Exit status: 0 stopped (Ctrl-C, -c or -w), 1 could not listen or open the database,
2 bad input.
)";

std::string iso_time(std::int64_t micros) {
  const std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((micros / 1000) % 1000));
  return text;
}

Json event_json(const StationEvent& e) {
  return {{"time", iso_time(e.time)},
          {"event", link::to_key(e.kind)},
          {"dev", e.dev},
          {"ip", e.ip.to_string()},
          {"mac", e.mac.to_string()},
          {"vendor", vendor_json(e.mac)},
          {"old_mac", e.old_mac ? Json(e.old_mac->to_string()) : Json(nullptr)},
          {"old_vendor", e.old_mac ? vendor_json(*e.old_mac) : Json(nullptr)},
          {"ethernet", e.ethernet.to_string()},
          {"op", e.ndp_type ? std::string(inet::icmpv6_type_name(e.ndp_type))
                            : std::string(link::to_string(e.op))}};
}

std::string event_line(const StationEvent& e) {
  std::string kind(link::to_string(e.kind));
  kind = link::is_mac_change(e.kind)               ? red(kind)
         : e.kind == StationEventKind::new_station ? green(kind)
                                                   : bold(kind);
  std::string line = iso_time(e.time) + " " + e.dev + " " + kind + " " + e.ip.to_string() + " " +
                     e.mac.to_string() + " " + dim(vendor_text(e.mac));
  if (e.old_mac)
    line += " (was " + e.old_mac->to_string() + " " + dim(vendor_text(*e.old_mac)) + ")";
  if (e.kind == StationEventKind::ethernet_mismatch)
    line += " (ethernet source " + e.ethernet.to_string() + ")";
  return line;
}

// Runs the --exec hooks: at most kMaxHooks at a time, reaped as they end.
class Hooks {
 public:
  static constexpr int kMaxHooks = 8;
  explicit Hooks(std::string command) : command_(std::move(command)) {}
  // Gives the hooks still running a few seconds to finish, so that the last events reach
  // them; a hook that hangs is left to itself rather than hanging the watch.
  ~Hooks() {
    for (int i = 0; i < 50 && running_ > 0; ++i) {
      reap();
      if (running_ > 0) ::usleep(100'000);
    }
  }
  void reap() {
    while (running_ > 0 && ::waitpid(-1, nullptr, WNOHANG) > 0) --running_;
  }
  void run(const StationEvent& e) {
    reap();
    // Wait a little for a slot rather than drop the hook; hooks that hang for seconds lose
    // this one (the event is still printed and logged), so the watch itself never hangs.
    for (int i = 0; i < 20 && running_ >= kMaxHooks; ++i) {
      ::usleep(100'000);
      reap();
    }
    if (running_ >= kMaxHooks) {
      std::cerr << "duplex arp watch: " << kMaxHooks << " --exec hooks still running; not "
                << "running it for " << link::to_key(e.kind) << ' ' << e.ip.to_string() << '\n';
      return;
    }
    const std::string json = event_json(e).dump();
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::cerr << "duplex arp watch: cannot run --exec hook: " << std::strerror(errno) << '\n';
      return;
    }
    if (pid == 0) {
      ::setenv("DUPLEX_EVENT", std::string(link::to_key(e.kind)).c_str(), 1);
      ::setenv("DUPLEX_DEV", e.dev.c_str(), 1);
      ::setenv("DUPLEX_IP", e.ip.to_string().c_str(), 1);
      ::setenv("DUPLEX_MAC", e.mac.to_string().c_str(), 1);
      ::setenv("DUPLEX_OLD_MAC", e.old_mac ? e.old_mac->to_string().c_str() : "", 1);
      ::setenv("DUPLEX_ETHERNET", e.ethernet.to_string().c_str(), 1);
      ::setenv("DUPLEX_VENDOR", vendor(e.mac).value_or("").c_str(), 1);
      ::setenv("DUPLEX_JSON", json.c_str(), 1);
      ::execl("/bin/sh", "sh", "-c", command_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ++running_;
  }

 private:
  std::string command_;
  int running_ = 0;
};

struct Watched {
  link::Interface interface;
  link::PacketSocket socket;
  std::optional<link::PacketSocket> ndp;  // IPv6 frames, filtered to NDP messages
  std::unique_ptr<link::ArpWatch> watch;
};

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int watch_main(Argv argv) {
  Args args("duplex arp watch", argv,
            {{"dev", 0, true},
             {"db", 0, true},
             {"json", 0, false},
             {"exec", 0, true},
             {"count", 'c', true},
             {"deadline", 'w', true},
             {"arp-only", 0, false}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  args.expect_positionals(0, 0, "no argument (choose the interface with --dev IF)");
  const auto max_events = args.number("count", 1, 1'000'000'000);
  const auto deadline = seconds_option(args, "deadline", 0.001);
  const bool json = args.has("json");

  std::vector<link::Interface> interfaces;
  if (auto dev = args.value("dev")) {
    interfaces.push_back(link::Interface::by_name(*dev));
  } else {
    for (auto& i : link::Interface::all())
      if (i.up && i.arp && !i.loopback) interfaces.push_back(std::move(i));
    if (interfaces.empty())
      throw Error("no interface is up and uses ARP; choose one with --dev IF");
  }
  link::StationDb db(args.value("db").value_or(link::StationDb::default_path()));
  std::vector<Watched> watched;
  for (auto& i : interfaces) {
    std::vector<inet::Prefix> subnets;
    for (const auto& p : i.ipv4) subnets.push_back(p.masked());
    link::PacketSocket socket(i.index);
    std::optional<link::PacketSocket> ndp;
    if (!args.has("arp-only")) {
      ndp.emplace(i.index, link::kEthertypeIpv6);
      link::attach_ndp_filter(*ndp);
    }
    auto w = std::make_unique<link::ArpWatch>(db, i.name, std::move(subnets));
    watched.push_back({std::move(i), std::move(socket), std::move(ndp), std::move(w)});
  }
  std::optional<Hooks> hooks;
  if (auto cmd = args.value("exec")) hooks.emplace(*cmd);
  install_interrupt_handler();

  std::cerr << "duplex arp watch: listening on";
  for (const auto& w : watched) std::cerr << ' ' << w.interface.name;
  std::cerr << "; stations in " << db.path() << '\n';

  using Clock = std::chrono::steady_clock;
  const auto end = deadline ? Clock::now() + *deadline : Clock::time_point::max();
  std::vector<pollfd> fds;
  std::vector<std::pair<Watched*, bool>> owners;  // per fd: its interface, and whether NDP
  for (auto& w : watched) {
    fds.push_back({w.socket.fd(), POLLIN, 0});
    owners.emplace_back(&w, false);
    if (w.ndp) {
      fds.push_back({w.ndp->fd(), POLLIN, 0});
      owners.emplace_back(&w, true);
    }
  }
  std::array<std::uint8_t, 2048> buffer{};
  std::uint64_t events = 0, frames = 0, malformed = 0, ndp_messages = 0;
  bool done = false;
  // FIXME: a poll() loop of its own until the reactor's EventLoop lands; then each packet
  // socket becomes a Channel on the loop and the deadline a timer.
  while (!done && !interrupted()) {
    const auto now = Clock::now();
    if (now >= end) break;
    const auto wait = std::min<Clock::duration>(end - now, std::chrono::seconds(1));
    const int ready =
        ::poll(fds.data(), fds.size(),
               static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
    if (hooks) hooks->reap();
    if (ready <= 0) continue;
    for (std::size_t i = 0; i < fds.size() && !done; ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      auto& [w, is_ndp] = owners[i];
      auto& socket = is_ndp ? *w->ndp : w->socket;
      while (auto got = socket.receive(buffer)) {
        const auto bytes = std::span<const std::uint8_t>(buffer.data(), got->size);
        std::vector<StationEvent> found;
        if (is_ndp) {
          // Invalid NDP (RFC 4861's checks) is dropped as a host drops it, uncounted.
          const auto f = link::decode_ndp_frame(bytes);
          if (!f) continue;
          ++ndp_messages;
          found = w->watch->observe(f->message, f->ethernet_source, now_micros());
        } else {
          ++frames;
          link::ArpFrame f;
          if (link::ArpFrame::decode(bytes, f) != link::ArpError::none) {
            ++malformed;
            continue;
          }
          found = w->watch->observe(f, now_micros());
        }
        for (const auto& e : found) {
          if (json)
            print_json(event_json(e));
          else
            std::cout << event_line(e) << '\n';
          std::cout << std::flush;
          if (hooks) hooks->run(e);
          if (max_events && ++events >= *max_events) done = true;
        }
        if (done) break;
      }
    }
  }
  std::uint64_t suppressed = 0;
  for (const auto& w : watched) suppressed += w.watch->suppressed();
  std::cerr << "duplex arp watch: " << frames << " ARP frames, " << malformed << " malformed, "
            << ndp_messages << " NDP messages, " << suppressed << " repeated events held back; "
            << db.station_count() << " stations in " << db.path() << '\n';
  return 0;
}

}  // namespace duplex::cli::arp
