#include "netcat_zero.h"

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <iostream>
#include <vector>

#include "duplex/transport/socket.h"
#include "output.h"

namespace duplex::cli::netcat {
namespace {

// Enough to scan a range quickly without exhausting file descriptors or flooding a host.
constexpr std::size_t kConcurrency = 64;
// Linux sends ICMP errors at a bounded rate (net.ipv4.icmp_msgs_per_sec, a burst of 50):
// more UDP probes at once would read the unanswered ones as open.
constexpr std::size_t kUdpConcurrency = 16;

struct Probe {
  std::uint16_t port = 0;
  Socket socket;
  Clock::time_point deadline;
};

struct Reporter {
  const inet::Endpoint& host;
  const Common& common;
  const Events& events;
  bool any_open = false;

  void operator()(std::uint16_t port, const char* state, bool answered = true) {
    any_open = any_open || std::string_view(state) == "open";
    const std::string address = host.host_string();
    if (common.json) {
      nlohmann::json j = {{"address", address}, {"port", port}, {"state", state}};
      if (common.udp) j["protocol"] = "udp";
      if (common.udp && std::string_view(state) == "open") j["answered"] = answered;
      print_json(j);
    } else {
      std::cout << address << ' ' << port << ' ' << state << '\n' << std::flush;
    }
    if (!answered)
      events.emit("open_filtered", {{"address", address}, {"port", port}},
                  address + " " + std::to_string(port) +
                      "/udp: no reply and no ICMP port unreachable within --wait: open, or a "
                      "firewall drops the probe (open|filtered)");
  }
};

// Starts one probe; reports and returns nullopt when its answer is already known.
std::optional<Probe> start(const inet::Endpoint& host, std::uint16_t port, const Common& common,
                           const std::optional<inet::Endpoint>& local, Reporter& report) {
  const inet::Endpoint to(host.address(), port, host.scope_id());
  Probe p{port, common.udp ? Socket::udp(to) : Socket::tcp(to), Clock::now() + common.wait};
  if (local) {
    p.socket.set_reuse_addr(true);
    p.socket.bind(local_for(*local, to));
  }
  const int err = p.socket.connect(to);
  if (common.udp && err == 0 && ::send(p.socket.fd(), "", 0, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
      errno == ECONNREFUSED) {
    report(port, "closed");
    return std::nullopt;
  }
  if (err == 0 && !common.udp) {
    report(port, "open");
  } else if (err == 0 || err == EINPROGRESS) {
    return p;
  } else {
    report(port, "closed");
  }
  return std::nullopt;
}

// What a ready probe says: TCP by the connect's result, UDP by a reply or an ICMP error.
const char* outcome(const Probe& p, const Common& common) {
  if (!common.udp) return p.socket.pending_error() == 0 ? "open" : "closed";
  char byte;
  if (::recv(p.socket.fd(), &byte, 1, MSG_DONTWAIT) >= 0) return "open";
  return errno == EAGAIN || errno == EWOULDBLOCK ? nullptr : "closed";
}

}  // namespace

PortRange parse_port_range(const Args& args, std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    const auto p = parse_port(args, text, false);
    return {p, p};
  }
  PortRange r{parse_port(args, text.substr(0, dash), false),
              parse_port(args, text.substr(dash + 1), false)};
  if (r.first > r.last)
    args.fail("port range '" + std::string(text) + "' runs backwards; write FIRST-LAST");
  return r;
}

int zero_io(const inet::Endpoint& host, PortRange range, const Common& common, const Events& events,
            const std::optional<inet::Endpoint>& local) {
  Reporter report{host, common, events};
  const std::size_t concurrency = common.udp ? kUdpConcurrency : kConcurrency;
  std::vector<Probe> running;
  unsigned next = range.first;
  while (next <= range.last || !running.empty()) {
    while (next <= range.last && running.size() < concurrency) {
      const auto port = static_cast<std::uint16_t>(next++);
      if (auto p = start(host, port, common, local, report)) running.push_back(std::move(*p));
    }
    if (running.empty()) continue;
    std::vector<pollfd> fds;
    const short want = common.udp ? POLLIN : POLLOUT;
    for (const auto& p : running) fds.push_back({p.socket.fd(), want, 0});
    ::poll(fds.data(), fds.size(), 50);
    const auto now = Clock::now();
    std::vector<Probe> still;
    for (std::size_t i = 0; i < running.size(); ++i) {
      Probe& p = running[i];
      const char* state = fds[i].revents != 0 ? outcome(p, common) : nullptr;
      if (state) {
        report(p.port, state);
      } else if (now >= p.deadline) {
        if (common.udp)
          report(p.port, "open", false);
        else
          report(p.port, "timeout");
      } else {
        still.push_back(std::move(p));
      }
    }
    running = std::move(still);
  }
  return report.any_open ? 0 : 1;
}

}  // namespace duplex::cli::netcat
