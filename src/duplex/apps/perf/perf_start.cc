#include "duplex/apps/perf/perf_start.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/utsname.h>

namespace duplex::apps::perf {
namespace {

std::string host_text(const inet::Endpoint& e) { return e.address().unmapped().to_string(); }

int int_option(int fd, int level, int name) {
  int value = 0;
  socklen_t len = sizeof value;
  if (fd < 0 || ::getsockopt(fd, level, name, &value, &len) < 0) return 0;
  return value;
}

}  // namespace

std::string connected_line(int fd, const inet::Endpoint& local, const inet::Endpoint& remote) {
  char id[16];
  std::snprintf(id, sizeof id, "[%3d]", fd);
  return std::string(id) + " local " + host_text(local) + " port " + std::to_string(local.port()) +
         " connected to " + host_text(remote) + " port " + std::to_string(remote.port()) + "\n";
}

StartInfo::Connected connected_entry(int fd, const inet::Endpoint& local,
                                     const inet::Endpoint& remote) {
  return {fd, host_text(local), local.port(), host_text(remote), remote.port()};
}

StartInfo make_start_info(const std::string& version, const std::string& cookie, bool server,
                          const inet::Endpoint& peer, const TestParameters& params,
                          std::uint32_t block_size,
                          const std::vector<std::unique_ptr<Stream>>& streams) {
  StartInfo info;
  info.version = version;
  utsname u{};
  if (::uname(&u) == 0) {
    info.system_info = std::string(u.sysname) + " " + u.nodename + " " + u.release + " " +
                       u.version + " " + u.machine;
  }
  info.cookie = cookie;
  info.server = server;
  info.host = host_text(peer);
  info.port = peer.port();
  info.params = params;
  info.block_size = block_size;
  const int fd = streams.empty() ? -1 : streams.front()->fd();
  info.sndbuf_actual = int_option(fd, SOL_SOCKET, SO_SNDBUF);
  info.rcvbuf_actual = int_option(fd, SOL_SOCKET, SO_RCVBUF);
  if (params.protocol == Protocol::kTcp)
    info.tcp_mss_default = static_cast<std::uint32_t>(int_option(fd, IPPROTO_TCP, TCP_MAXSEG));
  return info;
}

}  // namespace duplex::apps::perf
