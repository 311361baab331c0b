#include "duplex/apps/impair/lab.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "duplex/apps/impair/lab_system.h"
#include "duplex/base/error.h"

namespace duplex::impair {
namespace {

constexpr const char* kPidDir = "/run/duplex";

std::string pid_file(const std::string& name) {
  return std::string(kPidDir) + "/lab-" + name + ".pid";
}

bool netns_exists(const std::string& netns) {
  struct stat st {};
  return ::stat(("/run/netns/" + netns).c_str(), &st) == 0;
}

// The pid in lab `name`'s pid file when that process is alive; 0 otherwise.
pid_t live_owner(const std::string& name) {
  std::ifstream in(pid_file(name));
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return 0;
  return static_cast<pid_t>(pid);
}

std::vector<std::string> labs_with_pid_files() {
  std::vector<std::string> names;
  DIR* dir = ::opendir(kPidDir);
  if (!dir) return names;
  while (const dirent* e = ::readdir(dir)) {
    const std::string f = e->d_name;
    if (f.starts_with("lab-") && f.ends_with(".pid")) names.push_back(f.substr(4, f.size() - 8));
  }
  ::closedir(dir);
  return names;
}

void remove_namespaces(const std::string& name) {
  for (const auto& host : kLabHosts) {
    const std::string ns = name + "-" + host.role;
    if (!netns_exists(ns)) continue;
    try {
      run_command({"ip", "netns", "del", ns});
    } catch (const Error&) {
      // Best effort: the rest still goes, and the next run tries again.
    }
  }
}

}  // namespace

std::string default_lab_name() { return "dpx" + std::to_string(::getpid()); }

void check_lab_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 20;
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok)
    throw ParseError("lab name '" + name +
                     "': use 1 to 20 lower-case letters, digits or '_' (it prefixes namespaces)");
}

std::vector<std::string> running_labs() {
  std::vector<std::string> out;
  for (const auto& name : labs_with_pid_files())
    if (live_owner(name) != 0) out.push_back(name);
  return out;
}

void remove_stale_labs() {
  for (const auto& name : labs_with_pid_files()) {
    if (live_owner(name) != 0) continue;
    remove_namespaces(name);
    ::unlink(pid_file(name).c_str());
  }
}

bool remove_lab(const std::string& name) {
  bool found = ::access(pid_file(name).c_str(), F_OK) == 0;
  for (const auto& host : kLabHosts) found = found || netns_exists(name + "-" + host.role);
  remove_namespaces(name);
  ::unlink(pid_file(name).c_str());
  return found;
}

Lab::Lab(std::string name, HopMode mode) : name_(std::move(name)) {
  check_lab_name(name_);
  remove_stale_labs();
  if (const pid_t owner = live_owner(name_))
    throw Error("lab " + name_ + " is up already (process " + std::to_string(owner) +
                "); pick another --name, or remove it with `duplex lab down --name " + name_ + "`");
  for (const auto& host : kLabHosts)
    if (netns_exists(netns(host.role)))
      throw Error("network namespace " + netns(host.role) +
                  " exists and is not a lab's; remove it with `ip netns del " + netns(host.role) +
                  "` or pick another --name");
  // The pid file first: from here on a crash leaves something the next run can clean.
  ::mkdir(kPidDir, 0755);
  {
    std::ofstream out(pid_file(name_));
    out << ::getpid() << '\n';
    if (!out) throw Error("cannot write " + pid_file(name_));
  }
  built_ = true;
  try {
    build(mode);
  } catch (...) {
    remove_lab(name_);
    built_ = false;
    throw;
  }
}

Lab::~Lab() {
  if (built_) remove_lab(name_);
}

void Lab::build(HopMode mode) {
  const std::string a = netns("a"), hop = netns("hop"), b = netns("b");
  for (const auto& ns : {a, hop, b}) run_command({"ip", "netns", "add", ns});
  {
    // The hop is a wire: no addresses, no IPv6 of its own (no router solicitations).
    InNamespace in(hop);
    write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
  }
  run_command(
      {"ip", "-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "to-a", "netns", hop});
  run_command(
      {"ip", "-n", b, "link", "add", "eth0", "type", "veth", "peer", "name", "to-b", "netns", hop});
  const std::vector<std::pair<std::string, std::vector<std::string>>> veths = {
      {a, {"eth0"}}, {b, {"eth0"}}, {hop, {"to-a", "to-b"}}};
  for (const auto& [ns, interfaces] : veths) {
    InNamespace in(ns);
    for (const auto& i : interfaces) disable_offloads(i);
  }
  for (const auto& host : kLabHosts) {
    const std::string ns = netns(host.role);
    run_command({"ip", "-n", ns, "link", "set", "lo", "up"});
    if (host.ipv4[0] == '\0') continue;
    run_command({"ip", "-n", ns, "addr", "add", host.ipv4, "dev", "eth0"});
    run_command({"ip", "-n", ns, "-6", "addr", "add", host.ipv6, "dev", "eth0", "nodad"});
    run_command({"ip", "-n", ns, "link", "set", "eth0", "up"});
  }
  if (mode == HopMode::bridge) {
    run_command({"ip", "-n", hop, "link", "add", "br0", "type", "bridge", "forward_delay", "0"});
    for (const char* port : {"to-a", "to-b"})
      run_command({"ip", "-n", hop, "link", "set", port, "master", "br0"});
    run_command({"ip", "-n", hop, "link", "set", "br0", "up"});
  }
  for (const char* port : {"to-a", "to-b"})
    run_command({"ip", "-n", hop, "link", "set", port, "up"});
}

std::string describe_lab(const Lab& lab) {
  std::string out;
  for (const auto& host : kLabHosts) {
    std::string line = std::string("  ") + host.role;
    line.resize(7, ' ');
    line += lab.netns(host.role);
    line.resize(std::max<std::size_t>(line.size() + 2, 32), ' ');
    line += host.interfaces;
    if (host.ipv4[0] != '\0') {
      line.resize(std::max<std::size_t>(line.size() + 2, 44), ' ');
      line += std::string(host.ipv4) + "  " + host.ipv6;
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace duplex::impair
