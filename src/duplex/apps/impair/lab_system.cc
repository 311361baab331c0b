// The system calls under the lab: running `ip`, entering a namespace, switching offloads
// off, and whether we may do any of it.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "duplex/apps/impair/lab.h"
#include "duplex/apps/impair/lab_system.h"
#include "duplex/base/error.h"

extern char** environ;

namespace duplex::impair {

std::optional<std::string> lab_permission_problem() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return "cannot read our capabilities";
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1u; };
  if (!has(CAP_NET_ADMIN) || !has(CAP_SYS_ADMIN))
    return "building network namespaces needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN); run it "
           "with sudo";
  return std::nullopt;
}

void run_command(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int err = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[1]);
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
  if (err != 0) {
    ::close(pipefd[0]);
    throw Error("cannot run `" + line + "`: " + std::strerror(err) +
                (err == ENOENT ? " (install iproute2)" : ""));
  }
  std::string output;
  char buf[512];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    for (auto& c : output)
      if (c == '\n') c = ' ';
    throw Error("`" + line + "` failed: " + (output.empty() ? "no message" : output));
  }
}

InNamespace::InNamespace(const std::string& netns) {
  home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const std::string path = "/run/netns/" + netns;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (home_ < 0 || fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (home_ >= 0) ::close(home_);
    throw Error("cannot enter network namespace " + netns + ": " + std::strerror(err));
  }
  ::close(fd);
}

InNamespace::~InNamespace() {
  ::setns(home_, CLONE_NEWNET);
  ::close(home_);
}

void disable_offloads(const std::string& interface) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(std::string("socket: ") + std::strerror(errno));
  // The legacy one-feature ethtool calls: what `ethtool -K IF tx off tso off gso off
  // gro off` sets. TSO goes with tx checksums; GSO and GRO would hand us 64 KB "frames".
  for (const std::uint32_t cmd : {std::uint32_t{ETHTOOL_STSO}, std::uint32_t{ETHTOOL_SGSO},
                                  std::uint32_t{ETHTOOL_SGRO}, std::uint32_t{ETHTOOL_STXCSUM}}) {
    ethtool_value value{cmd, 0};
    ifreq req{};
    std::strncpy(req.ifr_name, interface.c_str(), IFNAMSIZ - 1);
    req.ifr_data = reinterpret_cast<char*>(&value);
    if (::ioctl(fd, SIOCETHTOOL, &req) != 0 && errno != EOPNOTSUPP) {
      const int err = errno;
      ::close(fd);
      throw Error("cannot switch offloads off on " + interface + ": " + std::strerror(err));
    }
  }
  ::close(fd);
}

void write_sysctl(const std::string& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ::write(fd, value.data(), value.size()) < 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    throw Error("cannot write " + path + ": " + std::strerror(err));
  }
  ::close(fd);
}

}  // namespace duplex::impair
