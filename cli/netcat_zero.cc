#include "netcat_zero.h"

#include <poll.h>

#include <chrono>
#include <iostream>
#include <vector>

#include "duplex/transport/socket.h"
#include "output.h"

namespace duplex::cli::netcat {
namespace {

// Enough to scan a range quickly without exhausting file descriptors or flooding a host.
constexpr std::size_t kConcurrency = 64;

struct Probe {
  std::uint16_t port = 0;
  Socket socket;
  Clock::time_point deadline;
};

void report(const inet::Address& address, std::uint16_t port, const char* state, bool json) {
  if (json) {
    print_json({{"address", address.to_string()}, {"port", port}, {"state", state}});
  } else {
    std::cout << address.to_string() << ' ' << port << ' ' << state << '\n' << std::flush;
  }
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

int zero_io(const inet::Address& address, PortRange range, const Common& common,
            const Events& events) {
  (void)events;
  std::vector<Probe> running;
  unsigned next = range.first;
  bool any_open = false;
  while (next <= range.last || !running.empty()) {
    while (next <= range.last && running.size() < kConcurrency) {
      const inet::Endpoint to(address, static_cast<std::uint16_t>(next));
      Probe p{static_cast<std::uint16_t>(next), Socket::tcp(to), Clock::now() + common.wait};
      ++next;
      const int err = p.socket.connect(to);
      if (err == 0) {
        any_open = true;
        report(address, p.port, "open", common.json);
      } else if (err == EINPROGRESS) {
        running.push_back(std::move(p));
      } else {
        report(address, p.port, "closed", common.json);
      }
    }
    if (running.empty()) continue;
    std::vector<pollfd> fds;
    for (const auto& p : running) fds.push_back({p.socket.fd(), POLLOUT, 0});
    ::poll(fds.data(), fds.size(), 50);
    const auto now = Clock::now();
    std::vector<Probe> still;
    for (std::size_t i = 0; i < running.size(); ++i) {
      Probe& p = running[i];
      if (fds[i].revents != 0) {
        const bool open = p.socket.pending_error() == 0;
        any_open = any_open || open;
        report(address, p.port, open ? "open" : "closed", common.json);
      } else if (now >= p.deadline) {
        report(address, p.port, "timeout", common.json);
      } else {
        still.push_back(std::move(p));
      }
    }
    running = std::move(still);
  }
  return any_open ? 0 : 1;
}

}  // namespace duplex::cli::netcat
