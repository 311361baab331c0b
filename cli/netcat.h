// Internal to the CLI. What `duplex connect` and `duplex listen` share: their common
// options, name resolution, connection events (-v, --json) and the stdin/stdout session.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.h"
#include "duplex/apps/netcat/stream_relay.h"
#include "duplex/inet/endpoint.h"
#include "duplex/reactor/timer_queue.h"
#include "duplex/transport/socket.h"

namespace duplex {
class EventLoop;
}

namespace duplex::cli::netcat {

// The options both commands take; append the command's own.
std::vector<Option> common_options();

struct Common {
  bool udp = false;
  bool v4_only = false;
  bool v6_only = false;
  bool verbose = false;
  bool json = false;
  bool hex = false;
  bool no_shutdown = false;
  bool numeric = false;      // -n: HOST is an address; no name lookup
  bool unix_socket = false;  // -U: HOST is the path of a Unix-domain stream socket
  Clock::duration quit_after = Clock::duration(-1);  // negative: not given
  Clock::duration idle_timeout{};
  Clock::duration wait = std::chrono::seconds(10);
  bool tls = false;  // --tls: the flags of netcat_tls.h
  Clock::duration handshake_timeout = std::chrono::seconds(10);
};

Common parse_common(const Args& args);

// "8080" -> 8080, or a service name from /etc/services ("http" -> 80); anything outside
// 1..65535 (0 too, unless allow_zero) is a UsageError.
std::uint16_t parse_port(const Args& args, std::string_view text, bool allow_zero);

// Every address of `host`, filtered by -4/-6. A name that does not resolve is a
// UsageError (exit status 2): the command was given something that names no host.
std::vector<inet::Endpoint> resolve(const Args& args, std::string_view host, std::uint16_t port,
                                    const Common& common, bool passive);

// Connection events on stderr: a line with -v, a JSON object a line with --json.
class Events {
 public:
  Events(const Common& common, std::string command)
      : common_(common), command_(std::move(command)) {}
  void emit(const std::string& event, const nlohmann::json& fields, const std::string& human) const;
  bool enabled() const noexcept { return common_.verbose || common_.json; }
  const std::string& command() const noexcept { return command_; }

 private:
  const Common& common_;
  std::string command_;
};

// Reports the end of a session with `peer` (an endpoint, or a Unix socket's path) (event
// "closed"; the reason on stderr if it failed) and returns the exit status: 0 orderly end,
// 1 reset, idle timeout or I/O error.
int session_ended(const Events& events, const std::string& peer, const apps::RelayResult& result);

// -U: what a Unix-domain socket cannot do (UDP, ports, prefixes), refused as usage errors.
// `extra` names the command's own options that need an IP address.
void refuse_with_unix(const Args& args, std::initializer_list<std::string_view> extra);

// The relay's options from the common ones (EOF rules, hex dump, events).
apps::RelayOptions relay_options(const Common& common, const Events& events);

}  // namespace duplex::cli::netcat
