// `duplex chat --discover`: finds `duplex serve` instances by one UDP broadcast probe
// (apps/discovery_probe) and prints one line, or one JSON object, per server that answers.
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include "chat.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/apps/chat/discovery_probe.h"
#include "duplex/base/error.h"
#include "duplex/inet/address.h"
#include "duplex/proto/tls_context.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "netcat.h"
#include "output.h"

namespace duplex::cli::chat {
namespace {

std::string seconds_text(Clock::duration d) {
  const double s = std::chrono::duration<double>(d).count();
  std::ostringstream out;
  out << s;
  return out.str() + " s";
}

void print_server(const apps::DiscoveredServer& s, bool json) {
  const std::string url = s.dashboard_url();
  if (json) {
    nlohmann::json j{{"address", s.address.to_string()},
                     {"chat_port", s.chat_port},
                     {"chat", s.chat().to_string()},
                     {"host", s.host},
                     {"version", s.version},
                     {"http_port", s.http_port},
                     {"dashboard", url},
                     {"token_required", s.token_required},
                     {"tls", s.tls}};
    if (!s.sha256.empty()) j["sha256"] = s.sha256;
    print_json(j);
  } else {
    std::string line = bold(s.chat().to_string()) + "  " +
                       (s.host.empty() ? "-" : printable(s.host)) + "  " +
                       (s.version.empty() ? "-" : printable(s.version)) + "  " +
                       (url.empty() ? "(no dashboard)" : cyan(url));
    if (s.tls) line += "  tls" + (s.sha256.empty() ? "" : " SHA-256 " + printable(s.sha256));
    if (s.token_required) line += dim(" (token required)");
    std::cout << line << '\n';
  }
  std::cout << std::flush;  // one line as each server answers
}

// The TLS settings for joining `s`: the context of --ca, --pin or --insecure (already in
// `settings`), else one that trusts the certificate the answer named. Returns why it
// refuses, if it does.
std::optional<std::string> tls_for(const Args& args, const apps::DiscoveredServer& s,
                                   SessionSettings& settings) {
  const bool trust_given = settings.tls != nullptr;
  if (!s.tls) {
    if (trust_given || args.has("tls"))
      return s.chat().to_string() + " answered without TLS, and --tls, --ca, --pin or " +
             "--insecure asks for it; join it without them, or find another server";
    return std::nullopt;
  }
  settings.server_name = s.address.to_string();
  if (trust_given) return std::nullopt;
  const auto pin = tls::parse_fingerprint(s.sha256);
  if (!pin)
    return s.chat().to_string() + " uses TLS but its answer named no certificate; give --pin " +
           "with the SHA-256 that duplex serve printed";
  // Anyone on the link can answer a probe: the token goes only where the user said.
  if (settings.token)
    return "not sending the token to " + s.chat().to_string() +
           " on the word of its own discovery answer: give --pin with the SHA-256 that " +
           "duplex serve printed (this answer named " + printable(s.sha256) + ")";
  std::cerr << "duplex chat: trusting the certificate that " << s.chat().to_string()
            << "'s answer named, SHA-256 " << printable(s.sha256)
            << "; compare it with the one duplex serve printed, or give --pin\n";
  tls::ClientOptions o;
  o.pin = pin;
  settings.tls = tls::Context::client(o);
  return std::nullopt;
}

}  // namespace

int discover(const Args& args, const SessionSettings& settings) {
  apps::ProbeOptions options;
  std::uint16_t port = apps::chat::kDefaultDiscoveryPort;
  if (auto p = args.value("discovery-port")) port = netcat::parse_port(args, *p, false);
  inet::Address to = inet::Address::v4(0xffffffffu);
  if (auto b = args.value("broadcast")) {
    auto a = inet::Address::try_parse(*b);
    if (!a)
      args.fail("--broadcast '" + *b +
                "' is not an address; give a broadcast address such as 192.168.1.255 "
                "(`duplex ip 192.168.1.10/24` prints it)");
    to = *a;
  }
  options.target = inet::Endpoint(to, port);
  if (auto t = args.value("timeout")) options.timeout = parse_duration(args, "timeout", *t);
  const bool json = args.has("json");
  const bool join = args.has("connect");
  ::signal(SIGPIPE, SIG_IGN);

  std::optional<apps::DiscoveredServer> first;
  std::size_t found = 0;
  {
    EventLoop loop;
    apps::DiscoveryProbe probe(&loop, options);
    SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&](int) { probe.stop(); });
    try {
      probe.start(
          [&](const apps::DiscoveredServer& s) {
            print_server(s, json);
            if (!first) first = s;
            if (join) probe.stop();
          },
          [&](std::size_t n) {
            found = n;
            loop.quit();
          });
    } catch (const Error& e) {
      std::cerr << "duplex chat: cannot send the discovery probe: " << e.what()
                << "; give --broadcast with the broadcast address of a subnet you are on "
                   "(see `ip -brief address`)\n";
      return 1;
    }
    loop.loop();
  }
  if (found == 0) {
    std::cerr << "duplex chat: no duplex serve answered within " << seconds_text(options.timeout)
              << " on udp port " << port << " (probe sent to " << options.target.to_string()
              << "); start one with: duplex serve, or try --broadcast with your subnet's "
                 "broadcast address, or a longer --timeout\n";
    return 1;
  }
  if (!join) return 0;
  SessionSettings joined = settings;
  if (auto refused = tls_for(args, *first, joined)) {
    std::cerr << "duplex chat: " << *refused << '\n';
    return 1;
  }
  return run_session({first->chat()}, joined);
}

}  // namespace duplex::cli::chat
