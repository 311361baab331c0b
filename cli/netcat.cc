#include "netcat.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>

#include "backend_flag.h"
#include "duplex/apps/netcat/hex_dump.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::cli::netcat {
namespace {

Clock::duration parse_seconds(const Args& args, std::string_view name) {
  const auto text = args.value(name);
  if (!text) return Clock::duration(-1);
  try {
    std::size_t used = 0;
    const double s = std::stod(*text, &used);
    if (used == text->size() && s >= 0 && s <= 1e6)
      return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  } catch (const std::exception&) {
  }
  args.fail("--" + std::string(name) + " '" + *text +
            "' must be a number of seconds from 0 to 1000000 (e.g. 2 or 0.5)");
}

}  // namespace

std::vector<Option> common_options() {
  return {{"udp", 'u', false},
          {"ipv4", '4', false},
          {"ipv6", '6', false},
          {"verbose", 'v', false},
          {"json", 0, false},
          {"hex", 0, false},
          {"no-shutdown", 0, false},
          {"quit-after", 'q', true},
          {"idle-timeout", 'i', true},
          {"wait", 'w', true},
          {"numeric", 'n', false},
          {"unix", 'U', false},
          {"tls", 0, false},
          kBackendOption,
          {"cert", 0, true},
          {"key", 0, true},
          {"ca", 0, true},
          {"pin", 0, true},
          {"insecure", 0, false},
          {"client-ca", 0, true},
          {"handshake-timeout", 0, true}};
}

Common parse_common(const Args& args) {
  Common c;
  apply_backend_flag(args);
  c.udp = args.has("udp");
  c.v4_only = args.has("ipv4");
  c.v6_only = args.has("ipv6");
  if (c.v4_only && c.v6_only) args.fail("-4 and -6 exclude each other");
  c.verbose = args.has("verbose");
  c.json = args.has("json");
  c.hex = args.has("hex");
  c.no_shutdown = args.has("no-shutdown");
  c.numeric = args.has("numeric");
  c.unix_socket = args.has("unix");
  c.quit_after = parse_seconds(args, "quit-after");
  if (auto idle = parse_seconds(args, "idle-timeout"); idle > Clock::duration::zero())
    c.idle_timeout = idle;
  if (auto wait = parse_seconds(args, "wait"); wait > Clock::duration::zero()) c.wait = wait;
  c.tls = args.has("tls");
  if (auto hs = parse_seconds(args, "handshake-timeout"); hs > Clock::duration::zero())
    c.handshake_timeout = hs;
  return c;
}

std::uint16_t parse_port(const Args& args, std::string_view text, bool allow_zero) {
  std::uint64_t n = 0;
  bool ok = !text.empty() && text.size() <= 6;
  bool digits = true;
  for (char ch : text) {
    if (ch < '0' || ch > '9')
      ok = digits = false;
    else
      n = n * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  // A service name, as nc and ncat take them: `duplex connect example.org http`.
  if (!digits && !text.empty() && text.size() < 64) {
    if (const servent* s = ::getservbyname(std::string(text).c_str(), nullptr))
      return ntohs(static_cast<std::uint16_t>(s->s_port));
  }
  if (!ok || n > 65535 || (n == 0 && !allow_zero)) {
    args.fail("port '" + std::string(text) + "' must be a number from " + (allow_zero ? "0" : "1") +
              " to 65535" + (digits ? "" : " or a service name from /etc/services (e.g. http)"));
  }
  return static_cast<std::uint16_t>(n);
}

std::vector<inet::Endpoint> resolve(const Args& args, std::string_view host, std::uint16_t port,
                                    const Common& common, bool passive) {
  std::string name(host);
  if (name.size() > 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  addrinfo hints{};
  hints.ai_family = common.v4_only ? AF_INET : common.v6_only ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = common.udp ? SOCK_DGRAM : SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  if (common.numeric) hints.ai_flags |= AI_NUMERICHOST;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    const std::string family = common.v4_only ? " (IPv4, -4)" : common.v6_only ? " (IPv6, -6)" : "";
    if (common.numeric && rc == EAI_NONAME)
      args.fail("-n: '" + name + "' is not an IP address; give one, or leave out -n");
    args.fail("cannot resolve host '" + name + "'" + family + ": " + ::gai_strerror(rc) +
              "; check the name or give an address");
  }
  std::vector<inet::Endpoint> out;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (auto e = inet::Endpoint::from_sockaddr(ai->ai_addr, ai->ai_addrlen)) {
      const inet::Endpoint with_port(e->address(), port, e->scope_id());  // fe80::1%eth0
      bool seen = false;
      for (const auto& o : out) seen = seen || o == with_port;
      if (!seen) out.push_back(with_port);
    }
  }
  ::freeaddrinfo(list);
  if (out.empty()) args.fail("host '" + name + "' has no address of the family asked for");
  return out;
}

void Events::emit(const std::string& event, const nlohmann::json& fields,
                  const std::string& human) const {
  if (common_.json) {
    nlohmann::json j = fields;
    j["event"] = event;
    std::cerr << j.dump() << '\n' << std::flush;
  } else if (common_.verbose) {
    std::cerr << command_ << ": " << human << '\n' << std::flush;
  }
}

apps::RelayOptions relay_options(const Common& common, const Events& events) {
  apps::RelayOptions o;
  o.shutdown_on_eof = !common.no_shutdown;
  o.quit_after = common.quit_after;
  o.idle_timeout = common.idle_timeout;
  o.handshake_timeout = common.handshake_timeout;
  // A person at a terminal will not type into a connection the peer has closed.
  o.end_on_peer_eof = ::isatty(STDIN_FILENO) == 1;
  if (common.hex) {
    o.observer = [](apps::Direction d, std::uint64_t offset, std::string_view data) {
      std::cerr << apps::hex_dump(d == apps::Direction::kSent ? '>' : '<', offset, data);
    };
  }
  if (events.enabled()) {
    o.on_event = [&events](std::string_view what) {
      const bool fin_sent = what.starts_with("stdin");
      events.emit(fin_sent ? "fin_sent" : "fin_received", nlohmann::json::object(),
                  std::string(what));
    };
  }
  return o;
}

int session_ended(const Events& events, const std::string& peer, const apps::RelayResult& result) {
  events.emit("closed",
              {{"peer", peer},
               {"bytes_sent", result.bytes_sent},
               {"bytes_received", result.bytes_received},
               {"reason", result.reason}},
              "closed " + peer + ": sent " + std::to_string(result.bytes_sent) + " B, received " +
                  std::to_string(result.bytes_received) + " B" +
                  (result.reason.empty() ? "" : " (" + result.reason + ")"));
  if (!result.failed) return 0;
  if (!events.enabled())
    std::cerr << events.command() << ": " << peer << ": " << result.reason << '\n';
  return 1;
}

void refuse_with_unix(const Args& args, std::initializer_list<std::string_view> extra) {
  if (args.has("udp"))
    args.fail(
        "-U with -u (Unix datagram sockets) is not supported; leave out -u for a stream "
        "socket");
  for (std::string_view o : {"ipv4", "ipv6", "numeric"})
    if (args.has(o)) args.fail("--" + std::string(o) + " is for IP addresses; -U takes a path");
  for (std::string_view o : extra)
    if (args.has(o)) args.fail("--" + std::string(o) + " is for IP sockets; -U takes a path");
}

}  // namespace duplex::cli::netcat
