// Public. A three-namespace lab for experiments over an impaired link:
//
//   NAME-a                NAME-hop                  NAME-b
//   eth0 10.77.0.1/24 --- to-a  [forwarder]  to-b --- eth0 10.77.0.2/24
//        fd77::1/64                                       fd77::2/64
//
// The hop has no addresses (IPv6 is off there) and either a Linux bridge joining to-a and
// to-b (HopMode::bridge, a plain link) or nothing (HopMode::empty: `duplex impair` forwards).
// Offloads (checksum, TSO, GSO, GRO) are off on every veth, so frames are real wire-sized
// frames with their checksums, which a forwarder in user space can pass on as they are.
//
// Built with iproute2's `ip`; a failing command is reported with its own words. A pid file
// (/run/duplex/lab-NAME.pid) marks whose lab it is, so a later run removes the leftovers of
// one that died (SIGKILL) without touching a live one. Needs root (CAP_NET_ADMIN and
// CAP_SYS_ADMIN).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace duplex::impair {

enum class HopMode { bridge, empty };

struct LabHost {
  const char* role;  // "a", "hop", "b"
  const char* interfaces;
  const char* ipv4;  // with the prefix length, "" for the hop
  const char* ipv6;
};
inline constexpr LabHost kLabHosts[] = {
    {"a", "eth0", "10.77.0.1/24", "fd77::1/64"},
    {"hop", "to-a, to-b", "", ""},
    {"b", "eth0", "10.77.0.2/24", "fd77::2/64"},
};

// Whether this process may build namespaces; the one-line reason when not.
std::optional<std::string> lab_permission_problem();

// "dpx<pid>", the name a lab gets unless the user gives one.
std::string default_lab_name();

// Throws duplex::ParseError unless `name` is 1-20 of [a-z0-9_] (it prefixes namespaces).
void check_lab_name(const std::string& name);

// The labs whose owner is alive, and removal of those whose owner is gone. The names are
// those of the pid files; a lab without one is not ours and is left alone.
std::vector<std::string> running_labs();
void remove_stale_labs();

// Removes lab `name`'s namespaces and pid file, whoever made it (`duplex lab down`).
// Returns false when there was nothing to remove.
bool remove_lab(const std::string& name);

class Lab {
 public:
  // Builds the lab; throws duplex::Error naming the command that failed (what was built is
  // removed again), or when a live lab has this name already.
  Lab(std::string name, HopMode mode);
  ~Lab();  // tears it down
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  const std::string& name() const noexcept { return name_; }
  std::string netns(const std::string& role) const { return name_ + "-" + role; }

 private:
  void build(HopMode mode);
  std::string name_;
  bool built_ = false;
};

// The lab's table for a terminal, one line per namespace:
//   "  a    dpx123-a    eth0  10.77.0.1/24  fd77::1/64"
std::string describe_lab(const Lab& lab);

// Moves the calling thread into network namespace `netns` for its lifetime, and back after.
class InNamespace {
 public:
  explicit InNamespace(const std::string& netns);
  ~InNamespace();
  InNamespace(const InNamespace&) = delete;
  InNamespace& operator=(const InNamespace&) = delete;

 private:
  int home_ = -1;
};

// Runs a command (argv[0] found on PATH); throws duplex::Error with the command line and
// what it printed on stderr when it fails.
void run_command(const std::vector<std::string>& argv);

}  // namespace duplex::impair
