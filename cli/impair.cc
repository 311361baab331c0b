// `duplex impair`: a bump in the wire that drops, delays, limits, reorders, duplicates and
// corrupts frames between two interfaces (apps/impair), in a lab of its own or between
// interfaces the user names.
#include <net/if.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"
#include "duplex/apps/impair/forwarder.h"
#include "duplex/apps/impair/lab.h"
#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp = R"(Usage: duplex impair --lab [--name NAME] [IMPAIRMENTS]
       duplex impair --between IF_A IF_B [IMPAIRMENTS]

Forwards every frame between two interfaces and impairs each direction on its own, as
Linux's netem would (this kernel may lack it; duplex does it in user space with AF_PACKET).
With --lab it first builds three network namespaces, host A, the hop where it runs, and
host B, and removes them when it ends (Ctrl-C); see `duplex lab --help` for the lab.
At the end it prints what each direction did to its frames.

Where:
  --lab                build a lab (NAME-a, NAME-hop, NAME-b) and forward in its hop
  --name NAME          the lab's name (default dpx<pid>)
  --between IF_A IF_B  forward between these two interfaces of this namespace instead
  --seed N             seed of the random choices, to replay a run (default: random,
                       printed at the start)
  --realtime           run at real-time priority (SCHED_FIFO 10): on a busy machine a
                       normal process may wait milliseconds for a core, and so would the
                       delayed frames; use it when the delay must be exact

Impairments (netem's names), for both directions, or for one after --a-to-b or --b-to-a
(until --both); a direction's own flags win over --both's:
  --loss P%                      lose each frame with probability P
  --loss gemodel P R [1-H [1-K]] bursty loss, Gilbert-Elliott: good->bad with P, bad->good
                                 with R (default 1-P); lose 1-H in bad (default 100%),
                                 1-K in good (default 0%). Mean burst: 1/R frames
  --delay T [J]                  delay every frame by T, plus or minus a jitter J
  --distribution D               the jitter's shape: uniform (default, as netem), normal
                                 (J is the standard deviation), pareto, paretonormal
  --rate R                       a token bucket of R (10mbit, 1gbit, 500kbit; 'bps' is
                                 bytes/s, as tc) over whole frames, Ethernet header included
  --burst BYTES                  what the bucket holds beyond one frame (default 0)
  --limit N                      frames held at most; more are dropped (default 10000)
  --reorder P%                   send P of the frames at once, ahead of the delayed ones
                                 (needs --delay)
  --duplicate P%                 send P of the frames twice
  --corrupt P%                   flip one random bit past the Ethernet header in P

Examples:
  sudo duplex impair --lab --loss 2% --delay 20ms
      a 40 ms round trip that loses 2% each way; then, in two other terminals:
        sudo duplex lab exec b -- duplex perf -s
        sudo duplex lab exec a -- duplex perf -c 10.77.0.2
  sudo duplex impair --lab --delay 50ms 10ms --distribution normal --rate 10mbit --realtime
  sudo duplex impair --lab --a-to-b --loss gemodel 1% 30% --b-to-a --delay 5ms
  sudo duplex impair --lab --name demo --duplicate 1% --corrupt 0.1% --delay 10ms --reorder 25%
  sudo duplex lab --empty --name demo &
  sudo duplex lab exec --name demo hop -- duplex impair --between to-a to-b --loss 1%

Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for --lab; CAP_NET_RAW for --between).
Exit status: 0 stopped by Ctrl-C or SIGTERM, 1 failed, 2 bad flags or not root.
)";

struct Options {
  bool lab = false;
  std::string name;
  std::vector<std::string> between;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> impairments;
  bool realtime = false;
  bool help = false;
};

std::uint64_t parse_seed(const std::string& w) {
  std::size_t used = 0;
  std::uint64_t v = 0;
  try {
    v = std::stoull(w, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != w.size() || w[0] == '-')
    throw UsageError("--seed '" + w + "' must be a whole number, e.g. --seed 42");
  return v;
}

Options parse(Argv argv) {
  Options o;
  const std::vector<std::string> words(argv.begin(), argv.end());
  auto need = [&](std::size_t i, const std::string& flag, const char* example) {
    if (i >= words.size() || words[i].starts_with("--"))
      throw UsageError(flag + " needs a value, e.g. " + flag + " " + example);
    return words[i];
  };
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--help" || w == "-h") {
      o.help = true;
    } else if (w == "--realtime") {
      o.realtime = true;
    } else if (w == "--lab") {
      o.lab = true;
    } else if (w == "--name") {
      o.name = need(++i, w, "demo");
    } else if (w == "--seed") {
      o.seed = parse_seed(need(++i, w, "42"));
    } else if (w == "--between") {
      o.between = {need(i + 1, w, "to-a to-b"), need(i + 2, w, "to-a to-b")};
      i += 2;
    } else if (impair::is_impairment_flag(w) || !w.starts_with("--")) {
      if (o.impairments.empty() && !w.starts_with("--"))
        throw UsageError("unexpected '" + w + "'; impairments start with a flag (--loss 2%)");
      o.impairments.push_back(w);
    } else {
      throw UsageError("unknown option '" + w + "'; see 'duplex impair --help'");
    }
  }
  return o;
}

unsigned interface_index(const std::string& name) {
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) throw UsageError("no interface '" + name + "' here; list them with `ip link`");
  return index;
}

int run_forwarder(unsigned a, unsigned b, const impair::Directions& d, std::uint64_t seed,
                  const std::string& ready) {
  EventLoop loop;
  SignalWatcher signals(&loop, {SIGINT, SIGTERM, SIGHUP}, [&](int) { loop.quit(); });
  impair::Forwarder forwarder(&loop, a, b, d, seed);
  std::cout << ready << std::flush;
  loop.loop();
  std::cout << "a -> b: " << impair::describe(forwarder.stats_a_to_b()) << '\n'
            << "b -> a: " << impair::describe(forwarder.stats_b_to_a()) << '\n';
  return 0;
}

}  // namespace

int impair_main(Argv argv) {
  const Options o = parse(argv);
  if (o.help) {
    std::cout << kHelp;
    return 0;
  }
  if (o.lab == !o.between.empty())
    throw UsageError("give --lab (build a lab and forward in it) or --between IF_A IF_B");
  if (!o.lab && !o.name.empty()) throw UsageError("--name names a lab; it needs --lab");
  const impair::Directions d = impair::parse_impairments(o.impairments);
  const std::uint64_t seed = o.seed ? *o.seed : std::random_device{}();
  if (o.realtime) impair::use_realtime_priority(10);
  std::string summary = "  a -> b: " + d.a_to_b.describe() + "\n  b -> a: " + d.b_to_a.describe() +
                        "\n  seed " + std::to_string(seed) + " (--seed " + std::to_string(seed) +
                        " replays it)\n";
  if (!o.lab) {
    return run_forwarder(interface_index(o.between[0]), interface_index(o.between[1]), d, seed,
                         "duplex impair: forwarding between " + o.between[0] + " (a) and " +
                             o.between[1] + " (b); Ctrl-C stops\n" + summary);
  }
  if (!o.name.empty()) impair::check_lab_name(o.name);
  if (const auto problem = impair::lab_permission_problem()) throw UsageError(*problem);
  // Signals are held from here: a Ctrl-C while the lab is being built still tears it down.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  impair::Lab lab(o.name.empty() ? impair::default_lab_name() : o.name, impair::HopMode::empty);
  const std::string by_name = o.name.empty() ? "" : "--name " + o.name + " ";
  const std::string ready = "duplex impair: lab " + lab.name() + " is up; Ctrl-C removes it\n" +
                            impair::describe_lab(lab) + summary + "Try:\n  duplex lab exec " +
                            by_name + "b -- duplex perf -s\n  duplex lab exec " + by_name +
                            "a -- duplex perf -c 10.77.0.2\n  duplex lab exec " + by_name +
                            "a -- ping -c 5 10.77.0.2\n";
  impair::InNamespace in_hop(lab.netns("hop"));
  return run_forwarder(interface_index("to-a"), interface_index("to-b"), d, seed, ready);
}

}  // namespace duplex::cli
