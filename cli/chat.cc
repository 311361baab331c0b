// `duplex chat`: a terminal client for `duplex serve`'s chat port (one line per message),
// and the discovery of servers on the LAN by UDP broadcast (chat_discover.cc); the session
// itself is in chat_session.cc.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "args.h"
#include "chat.h"
#include "commands.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "netcat.h"
#include "output.h"
#include "tls_flags.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp = R"(Usage: duplex chat [OPTIONS] [HOST[:PORT]]
       duplex chat --discover [--broadcast ADDR] [--discovery-port N] [--timeout T] [--json]

Joins the chat of a `duplex serve` (its TCP chat port, 7000 by default; HOST defaults to
localhost). Every line typed (or piped) on stdin is said in the room; every line the server
sends is printed as it arrives:
  [12:04:31] alice: hello       a message (UTC time of its commit); your own line comes
                                back like this once the server has stored it
  * bob joined lobby            a notice
  ! name taken ...              an error from the server (the exit status is then 1)
Commands go to the server as typed: /nick NAME, /join ROOM, /who, /rooms, /help, /quit.
Browsers in the dashboard's Chat page share the same rooms.

A serve bound beyond loopback wants its token first: --token TOKEN (or the environment's
DUPLEX_TOKEN, which keeps it out of `ps`) sends "/auth TOKEN" before anything else, and
nothing of stdin is said until the server has let us in. A wrong token ends the session
with the server's reason and status 1. On loopback the token is not needed (and harmless).

End of input (Ctrl-D, or the end of a pipe) sends what is left, waits until the server
has sent your own lines back (stored: at most 5 s), then sends /quit and waits (at most
5 s) for the server to close. So `echo hi | duplex chat` prints its line once it is stored.
Ctrl-C leaves at once. The server closing ends the client too, after printing everything
it sent.

--discover finds servers instead: it broadcasts a UDP probe (to 255.255.255.255 unless
--broadcast says otherwise; a second time after a third of --timeout, in case one is lost)
and prints a line per server as it answers, until --timeout:
  192.168.1.20:7000  labhost  0.1.0  http://192.168.1.20:8080/
  192.168.1.21:7000  lab2  0.1.0  https://192.168.1.21:8080/  tls SHA-256 4D:A6:...:25
With --connect to a server that answered "tls", the session is TLS and trusts the
certificate that the answer named (said on stderr), unless --pin, --ca or --insecure says
otherwise. Anyone on the link can answer a probe, so a --token goes only with --pin (or
--ca): compare the fingerprint with the one `duplex serve` printed.
255.255.255.255 leaves by the interface of the default route only; on another subnet give
its broadcast address (`duplex ip 10.0.0.7/24` prints it). Routers do not forward
broadcasts: discovery finds servers on your own link.

Options:
  --name NAME           your name in the room (sent as /nick NAME); [A-Za-z0-9_.-], at
                        most 32 bytes. Default: a guest name the server picks
  --room ROOM           the room to join (sent as /join ROOM); default lobby
  --token TOKEN         the server's token, sent first as /auth TOKEN (default: the
                        environment's DUPLEX_TOKEN, if set)
  --tls                 TLS to the chat port (serve bound beyond loopback has it on). The
                        certificate is checked against the system CAs and HOST, unless:
  --pin SHA256          trust the one certificate with this fingerprint (serve prints it)
  --ca FILE             trust the CAs (or the self-signed certificate) in FILE
  --insecure            check nothing (said on stderr): anyone on the path can read it
  -4, -6                only IPv4 / only IPv6 addresses of HOST
  -w, --wait T          connect timeout per address (default 10s)
  --discover            find servers by UDP broadcast instead of joining one
  --broadcast ADDR      --discover: where the probe goes (default 255.255.255.255; this
                        host only: 127.255.255.255; or one server's address)
  --discovery-port N    --discover: the servers' UDP port (default 7001)
  --timeout T           --discover: how long to collect answers (default 1s)
  --json                --discover: one JSON object per server and line
  --connect             --discover: join the first server that answers (--tls, --pin,
                        --ca, --insecure: how to trust it; see above)
  -h, --help            this help
Durations: 2, 1.5, 2s, 500ms.

Examples:
  duplex chat                                   # the server on this machine, port 7000
  duplex chat --name alice --room ops 192.168.1.20
  duplex chat [::1]:7000                        # a serve started with --bind ::1 (or ::)
  echo 'deploy done' | duplex chat --name ci chat.lan:7000
  DUPLEX_TOKEN=s3cret duplex chat --tls --pin 4D:A6:...:25 192.168.1.20
                                                # a serve started with --bind 0.0.0.0
  duplex chat --discover
  duplex chat --discover --broadcast 192.168.1.255 --timeout 2s --json
  duplex chat --discover --broadcast 127.255.255.255 --connect --name alice
  duplex chat --discover --connect --pin 4D:A6:...:25 --token s3cret
  nc 127.0.0.1 7000                             # plain nc works too

--token, --name and --room are granted before anything of stdin is said: a wrong token or
a taken name ends the session at once, saying nothing, with the server's reason on stderr
and status 1.

Exit status: 0 the server closed the session, or Ctrl-C (--discover: at least one server
answered); 1 could not connect (refused, unreachable, timed out), the connection was reset,
the server refused --token, --name or --room or any line or command sent (an error line: the last
one is repeated on stderr) (--discover: nobody answered); 2 usage error: unknown option,
port 70000, a host that does not resolve.
)";

struct Target {
  std::string host;
  std::optional<std::string> port;
};

// "host", "host:7000", "[::1]:7000", "::1" (colons but no brackets: all of it is the host).
Target split_host_port(std::string_view text) {
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close != std::string_view::npos) {
      Target t{std::string(text.substr(1, close - 1)), std::nullopt};
      if (close + 1 < text.size() && text[close + 1] == ':')
        t.port = std::string(text.substr(close + 2));
      return t;
    }
  }
  const auto colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos)
    return {std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  return {std::string(text), std::nullopt};
}

}  // namespace

namespace chat {

Clock::duration parse_duration(const Args& args, const std::string& option,
                               const std::string& text) {
  std::string number = text;
  double scale = 1;
  if (number.ends_with("ms")) {
    number.resize(number.size() - 2);
    scale = 1e-3;
  } else if (number.ends_with('s')) {
    number.pop_back();
  }
  try {
    std::size_t used = 0;
    const double v = std::stod(number, &used) * scale;
    if (used == number.size() && v > 0 && v <= 1e6)
      return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(v));
  } catch (const std::exception&) {
  }
  args.fail("--" + option + " '" + text + "' must be a duration such as 2, 1.5s or 500ms");
}

}  // namespace chat

int chat_main(Argv argv) {
  Args args("duplex chat", argv,
            {{"name", 0, true},
             {"room", 0, true},
             {"token", 0, true},
             {"tls", 0, false},
             {"ca", 0, true},
             {"pin", 0, true},
             {"insecure", 0, false},
             {"ipv4", '4', false},
             {"ipv6", '6', false},
             {"wait", 'w', true},
             {"discover", 0, false},
             {"broadcast", 0, true},
             {"discovery-port", 0, true},
             {"timeout", 0, true},
             {"json", 0, false},
             {"connect", 0, false}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  chat::SessionSettings settings;
  settings.name = args.value("name");
  settings.room = args.value("room");
  for (const auto* which : {"name", "room"}) {
    const auto v = args.value(which);
    if (v && (v->empty() || v->size() > apps::chat::kMaxNameBytes ||
              v->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_.-") != std::string::npos))
      args.fail("--" + std::string(which) + " '" + *v + "' must be 1 to " +
                std::to_string(apps::chat::kMaxNameBytes) + " of A-Z a-z 0-9 _ . -");
  }
  if (auto w = args.value("wait")) settings.wait = chat::parse_duration(args, "wait", *w);
  settings.token = args.value("token");
  if (const char* env = std::getenv("DUPLEX_TOKEN"); !settings.token && env && *env != '\0')
    settings.token = env;
  if (settings.token && (settings.token->empty() ||
                         std::any_of(settings.token->begin(), settings.token->end(), [](char c) {
                           return c == ' ' || c == '\t' || c == '\r' || c == '\n';
                         })))
    args.fail("--token (or DUPLEX_TOKEN) must be one word, as duplex serve printed it");

  if (args.has("ca") + args.has("pin") + args.has("insecure") > 1)
    args.fail("--ca, --pin and --insecure exclude each other; give one");
  if (args.has("discover")) {
    args.expect_positionals(0, 0, "no HOST (--discover finds the hosts)");
    for (const auto* only : {"tls", "ca", "pin", "insecure"})
      if (args.has(only) && !args.has("connect"))
        args.fail("--" + std::string(only) +
                  " with --discover goes with --connect (it says how to trust the server "
                  "joined)");
    if (args.has("ca") || args.has("pin") || args.has("insecure"))
      settings.tls = client_tls_context(args, "duplex chat");
    return chat::discover(args, settings);
  }
  for (const auto* only : {"broadcast", "discovery-port", "timeout", "json", "connect"})
    if (args.has(only)) args.fail("--" + std::string(only) + " goes with --discover");
  for (const auto* only : {"ca", "pin", "insecure"})
    if (args.has(only) && !args.has("tls"))
      args.fail("--" + std::string(only) + " is for TLS; add --tls");

  args.expect_positionals(0, 2, "HOST[:PORT] (or HOST PORT)");
  const auto& pos = args.positionals();
  Target target = pos.empty() ? Target{"localhost", std::nullopt} : split_host_port(pos[0]);
  if (pos.size() == 2) {
    if (target.port) args.fail("the port is given twice: '" + pos[0] + "' and '" + pos[1] + "'");
    target.port = pos[1];
  }
  if (target.host.empty()) args.fail("HOST is empty in '" + pos[0] + "'");
  if (args.has("tls")) {
    settings.tls = client_tls_context(args, "duplex chat");
    settings.server_name = target.host;
  }
  netcat::Common common;
  common.v4_only = args.has("ipv4");
  common.v6_only = args.has("ipv6");
  if (common.v4_only && common.v6_only) args.fail("-4 and -6 exclude each other");
  const std::uint16_t port =
      target.port ? netcat::parse_port(args, *target.port, false) : apps::chat::kDefaultChatPort;
  const auto peers = netcat::resolve(args, target.host, port, common, false);
  return chat::run_session(peers, settings);
}

}  // namespace duplex::cli
