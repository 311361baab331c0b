// `duplex lab`: three network namespaces, host A, a hop and host B, for experiments over a
// link (apps/impair/lab); `exec` runs a command in one of them.
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"
#include "duplex/apps/impair/lab.h"
#include "duplex/base/error.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp = R"(Usage: duplex lab [up] [--name NAME] [--empty]
       duplex lab exec [--name NAME] a|hop|b -- COMMAND [ARGS...]
       duplex lab down [--name NAME]
       duplex lab list

Builds a lab of three network namespaces joined by veth pairs, prints it, and removes it
when it ends (Ctrl-C, SIGTERM):

  NAME-a                     NAME-hop                       NAME-b
  eth0 10.77.0.1/24 ---- to-a  (bridge br0)  to-b ---- eth0 10.77.0.2/24
       fd77::1/64                                           fd77::2/64

The hop joins to-a and to-b with a Linux bridge, a plain link; with --empty it does not,
so that `duplex impair --between to-a to-b` run there is the link. `duplex impair --lab`
builds the same lab and forwards in its hop itself. Offloads are off on every veth, so
frames on the wire are real, checksummed, at most MTU-sized.

  up             build the lab and wait (the default)
  exec ROLE      run COMMAND in namespace NAME-ROLE (through `ip netns exec`); without
                 --name, in the one lab that is up
  down           remove lab NAME; without --name, the leftovers of labs whose process died
  list           the labs that are up
  --name NAME    the lab's name, 1 to 20 of [a-z0-9_] (default dpx<pid>)
  --empty        no bridge in the hop

Examples:
  sudo duplex lab
  sudo duplex lab exec b -- duplex perf -s
  sudo duplex lab exec a -- duplex perf -c 10.77.0.2
  sudo duplex lab exec a -- ping -c 3 fd77::2
  sudo duplex lab --name demo --empty &
  sudo duplex lab exec --name demo hop -- duplex impair --between to-a to-b --delay 20ms
  sudo duplex lab down --name demo

Labs that died without cleaning up (SIGKILL) are removed by the next `duplex lab` or
`duplex impair --lab`, or by `duplex lab down`.
Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN).
Exit status: 0 ok, 1 failed, 2 bad flags or not root; exec: the command's own status.
)";

void need_root() {
  if (const auto problem = impair::lab_permission_problem()) throw UsageError(*problem);
}

std::string pick_lab(const Args& args) {
  if (const auto name = args.value("name")) {
    impair::check_lab_name(*name);
    return *name;
  }
  const auto labs = impair::running_labs();
  if (labs.size() == 1) return labs[0];
  if (labs.empty()) throw UsageError("no lab is up; start one with `duplex lab` first");
  std::string names;
  for (const auto& l : labs) names += (names.empty() ? "" : ", ") + l;
  throw UsageError("several labs are up (" + names + "); pick one with --name");
}

int run_exec(const Args& args) {
  const auto& pos = args.positionals();
  if (pos.size() < 3)
    throw UsageError("exec needs a namespace and a command: duplex lab exec a -- ping 10.77.0.2");
  const std::string& role = pos[1];
  if (role != "a" && role != "hop" && role != "b")
    throw UsageError("no host '" + role + "' in a lab; use a, hop or b");
  const std::string netns = pick_lab(args) + "-" + role;
  if (::access(("/run/netns/" + netns).c_str(), F_OK) != 0)
    throw UsageError("no namespace " + netns + "; is the lab up? (duplex lab list)");
  std::vector<char*> command = {const_cast<char*>("ip"), const_cast<char*>("netns"),
                                const_cast<char*>("exec"), const_cast<char*>(netns.c_str())};
  for (std::size_t i = 2; i < pos.size(); ++i) command.push_back(const_cast<char*>(pos[i].c_str()));
  command.push_back(nullptr);
  std::cout.flush();
  ::execvp("ip", command.data());
  throw Error(std::string("cannot run `ip netns exec`: ") + std::strerror(errno) +
              " (install iproute2)");
}

int run_up(const Args& args) {
  const std::string name = args.value("name").value_or(impair::default_lab_name());
  impair::check_lab_name(name);
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);  // a Ctrl-C while building still tears down
  impair::Lab lab(name, args.has("empty") ? impair::HopMode::empty : impair::HopMode::bridge);
  const std::string by_name = args.value("name") ? "--name " + name + " " : "";
  std::cout << "duplex lab: " << name << " is up; Ctrl-C removes it\n"
            << impair::describe_lab(lab)
            << (args.has("empty") ? "  the hop forwards nothing: run duplex impair --between "
                                    "to-a to-b in it\n"
                                  : "  the hop is a plain bridge (br0)\n")
            << "Try:\n  duplex lab exec " << by_name << "b -- duplex perf -s\n"
            << "  duplex lab exec " << by_name << "a -- duplex perf -c 10.77.0.2\n"
            << std::flush;
  int signo = 0;
  sigwait(&set, &signo);
  std::cout << "duplex lab: " << ::strsignal(signo) << "; removing " << name << '\n';
  return 0;
}

}  // namespace

int lab_main(Argv argv) {
  Args args("duplex lab", argv, {{"name", 0, true}, {"empty", 0, false}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  const auto& pos = args.positionals();
  const std::string verb = pos.empty() ? "up" : pos[0];
  if (verb == "exec") {
    need_root();
    return run_exec(args);
  }
  if (pos.size() > 1) throw UsageError("unexpected '" + pos[1] + "'; see 'duplex lab --help'");
  if (verb == "list") {
    for (const auto& l : impair::running_labs()) std::cout << l << '\n';
    return 0;
  }
  need_root();
  if (verb == "up") return run_up(args);
  if (verb == "down") {
    if (const auto name = args.value("name")) {
      impair::check_lab_name(*name);
      if (!impair::remove_lab(*name)) {
        std::cerr << "duplex lab: no lab " << *name << '\n';
        return 1;
      }
      return 0;
    }
    impair::remove_stale_labs();
    return 0;
  }
  throw UsageError("unknown verb '" + verb + "'; use up, exec, down or list");
}

}  // namespace duplex::cli
