// `duplex serve`: the dashboard in the browser, and one chat room shared by terminals (TCP
// lines) and browsers (WebSocket), with its history in SQLite (or, with --redis, in Redis
// Streams shared with other serve processes) and a UDP discovery responder. One process,
// one EventLoop.
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "backend_flag.h"
#include "bind_address.h"
#include "commands.h"
#include "duplex/apps/chat/chat_feed.h"
#include "duplex/apps/chat/chat_hub.h"
#include "duplex/apps/chat/chat_local_feed.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/apps/chat/chat_redis_feed.h"
#include "duplex/apps/chat/chat_tcp.h"
#include "duplex/apps/chat/chat_ws.h"
#include "duplex/apps/chat/discovery.h"
#include "duplex/apps/dashboard/access.h"
#include "duplex/apps/dashboard/capture_ws.h"
#include "duplex/apps/dashboard/connection_registry.h"
#include "duplex/apps/dashboard/dashboard.h"
#include "duplex/apps/dashboard/perf_ws.h"
#include "duplex/apps/dashboard/scan_ws.h"
#include "duplex/apps/dashboard/web_assets.h"
#include "duplex/base/error.h"
#include "duplex/base/log.h"
#include "duplex/inet/address.h"
#include "duplex/inet/endpoint.h"
#include "duplex/proto/http_json.h"
#include "duplex/proto/http_router.h"
#include "duplex/proto/http_server.h"
#include "duplex/proto/http_static.h"
#include "duplex/proto/redis_url.h"
#include "duplex/proto/tls_filter.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_connection.h"
#include "duplex/transport/tcp_info.h"
#include "tls_flags.h"

namespace duplex::cli {
namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kHelp = R"(Usage: duplex serve [OPTIONS]

The dashboard in the browser and one chat shared by terminals and browsers, in one process:
  dashboard  HTTP and WebSocket on --bind:--port: the Connections, Address tools,
             Neighbours, Chat, Capture, Perf and Hosts pages, and their JSON API
             (docs/api.md); Hosts scans this machine's subnets (a /22 and 1000 ports at most)
  chat       a TCP line protocol on --chat-port, for `duplex chat HOST` or plain nc; the
             browser joins the same rooms over WebSocket (/ws/chat), IRC clients over
             --irc-port
  history    every message in SQLite; the last 100 of a room are replayed on join, and a
             message is acknowledged only once committed (kill -9 loses no acknowledged one)
  discovery  answers `duplex chat --discover` probes on UDP --discovery-port
  redis      with --redis, several serve processes (on one machine or many) share the rooms,
             their history and who is online through one Redis server, instead of SQLite
On start it prints one line per service (the real ports when 0 was given; bound to 0.0.0.0
or ::, a dashboard URL per interface address, loopback first), then runs until SIGINT
(Ctrl-C) or SIGTERM.

Access: a token is generated at start (128 random bits) unless --token gives one; the
printed dashboard URL carries it (?token=...), and the page keeps it in an HttpOnly cookie.
On loopback it is needed only to change the neighbour table, to capture, for perf tests and
for scans. Bound beyond
loopback, every HTTP request needs it (Authorization: Bearer TOKEN, ?token=TOKEN, or the
cookie): 401 otherwise. The TCP chat port then asks for it too: the first line must be
`/auth TOKEN` (`duplex chat --token TOKEN` sends it; with nc, type it), within 10 s and at
most 512 bytes; before it nothing of the room is sent and nothing said reaches it, and a
wrong or missing token gets one "! ..." line and the close. On loopback nc needs no /auth.

Options:
  --bind ADDR            the dashboard's and chat's address (default 127.0.0.1; 0.0.0.0 or
                         :: for every interface, which requires the token)
  --port PORT            dashboard port (default 8080; 0: any free port)
  --chat-port PORT       TCP chat port (default 7000; 0: any free port)
  --irc-port PORT        the chat's IRC door, for irssi, weechat, HexChat, ii...: rooms are
                         channels (#lobby), the token (beyond loopback) is the PASS, TLS as
                         the chat's (default: off; 0: any free port)
  --discovery-port PORT  UDP discovery port on 0.0.0.0 (default 7001; 0: any free port,
                         which only a prober told the port finds)
  --no-discovery         do not answer discovery probes
  --db PATH              chat history file (default $XDG_DATA_HOME/duplex/chat.db, else
                         ~/.local/share/duplex/chat.db); its directory is created
  --token TOKEN          the access token instead of a random one (letters, digits, - _ . ~)
  --backend B            the event loop: epoll or uring (io_uring); default
                         $DUPLEX_BACKEND, else epoll (also where io_uring is refused)
  --tls                  HTTPS and WSS for the dashboard, TLS for the TCP chat (TLS 1.2/1.3).
                         On by default when bound beyond loopback; the printed URLs are
                         https://, and the certificate's SHA-256 fingerprint is printed
  --no-tls               bound beyond loopback, stay in clear text (the token then crosses
                         the network readable)
  --cert FILE --key FILE the certificate (PEM, chain allowed) and its key; without them a
                         self-signed ECDSA P-256 one kept in the data directory (mode 0600),
                         so its fingerprint stays the same from one start to the next
  --web DIR              serve the page's files from DIR (e.g. ./web, for front-end work)
                         instead of the copies embedded in the binary
  --log-level LEVEL      error, warn (default), info or debug: what goes to stderr
  -h, --help             this help

Sharing through Redis (several nodes; without --redis nothing of this applies):
  --redis URL            redis://[user:password@]host[:port][/db]. Each room is a Redis
                         Stream (duplex:room:NAME); a post is acknowledged only once Redis has
                         stored it, and its stream id orders the room the same for every node.
                         The password may come from $DUPLEX_REDIS_PASSWORD instead (out of
                         ps). Redis unreachable at start: one line and exit 1; lost later:
                         posts are refused ("! not stored: Redis ... is unreachable") while
                         the node reconnects, then delivery goes on where it stopped. Run
                         Redis with appendonly yes (appendfsync always: no acknowledged
                         message lost if Redis itself crashes). --db, --history-* and
                         --min-free are then not used
  --redis-maxlen N       entries kept per room stream (XADD MAXLEN ~ N; default 10000)

Capture (the Capture page, /ws/capture; needs root or CAP_NET_RAW, else the page says why):
  --capture-rate N       the most packets a second sent to one Capture page (default 100,
                         1 to 10000); the page may ask fewer (?rate=). The rest are counted
                         and shown as "left out by the rate cap"

Chat limits:
  --chat-rate N          lines (or WebSocket messages) a second each chat connection may send
                         after its burst (default 10; 0: no limit). Faster lines wait, up to
                         100; more are refused ("! not sent: flood control ..."), and after 10
                         refused the connection is dropped
  --chat-burst N         lines a connection may send at once after a quiet moment (default 20)
  --history-max N        messages kept per room; the oldest beyond are deleted (default 0: all)
  --history-max-age AGE  messages older than AGE are deleted: 90s, 30m, 12h, 7d (default: kept)
  --min-free SIZE        refuse posts ("! not stored: ...") while the disk holding --db has less
                         free space than SIZE: 64MiB, 1GiB, 0 for no check (default 64MiB)

Examples:
  duplex serve
  duplex serve --bind 0.0.0.0 --token s3cret     # TLS on: https://, chat over TLS
  duplex serve --tls --cert site.pem --key site.key
  duplex serve --port 0 --chat-port 0 --discovery-port 0 --db /tmp/chat.db
  duplex serve --web ./web
  duplex serve --irc-port 6667                     # then: irssi -c 127.0.0.1 -p 6667 -n ann
  duplex serve --backend uring                     # the loops on io_uring
  duplex serve --chat-rate 2 --chat-burst 5        # stricter flood control
  duplex serve --history-max 10000 --history-max-age 30d --min-free 1GiB
  duplex serve --capture-rate 20                   # a slow link to the browser
  duplex serve --redis redis://127.0.0.1:6379      # one node of several sharing the chat
  DUPLEX_REDIS_PASSWORD=s3cret duplex serve --redis redis://redis.lan:6379/2 --port 8081
  nc 127.0.0.1 7000                  # chat from a terminal
  duplex chat --tls --pin SHA256 --token s3cret 192.168.1.20   # a serve beyond loopback
  curl --cacert site.pem https://127.0.0.1:8080/api/status
  curl -H 'Authorization: Bearer TOKEN' http://127.0.0.1:8080/api/status

Log: stderr gets one line per event, with its UTC time to the millisecond:
  2026-12-04T16:02:11.123Z error chat: commit of 1 message failed: disk I/O error
  error  a chat commit that failed (the sender gets the error too), an HTTP 500
  warn   a refused request (401 no token, 403 Host or origin) and a chat member dropped
         for being too far behind
stdout keeps the start-up summary only.

Exit status: 0 stopped by a signal, 1 could not start (port in use, database not
writable, Redis unreachable or refusing the password), 2 usage error.
)";

// "64MiB", "1GiB", "512K", "0": bytes.
std::uint64_t parse_size(const Args& args, const std::string& text) {
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {{"GiB", 1ull << 30},
                                                                          {"MiB", 1ull << 20},
                                                                          {"KiB", 1ull << 10},
                                                                          {"G", 1ull << 30},
                                                                          {"M", 1ull << 20},
                                                                          {"K", 1ull << 10},
                                                                          {"B", 1}};
  std::string_view number = text;
  std::uint64_t scale = 1;
  for (const auto& [suffix, bytes] : kUnits)
    if (number.size() > suffix.size() && number.ends_with(suffix)) {
      number.remove_suffix(suffix.size());
      scale = bytes;
      break;
    }
  std::uint64_t v = 0;
  const bool digits =
      !number.empty() && number.size() <= 12 &&
      std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) v = std::stoull(std::string(number));
  if (!digits || v > (std::uint64_t{1} << 50) / scale)
    args.fail("--min-free '" + text + "' must be a size such as 64MiB, 1GiB, 500M or 0");
  return v * scale;
}

// "90s", "30m", "12h", "7d": a duration of at least a second.
std::chrono::milliseconds parse_age(const Args& args, const std::string& text) {
  static constexpr std::pair<char, std::int64_t> kUnits[] = {
      {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
  const auto fail = [&] {
    args.fail("--history-max-age '" + text +
              "' must be a whole number and a unit: 90s, 30m, "
              "12h or 7d");
  };
  if (text.size() < 2 || text.size() > 10) fail();
  std::int64_t scale = 0;
  for (const auto& [unit, seconds] : kUnits)
    if (text.back() == unit) scale = seconds;
  const std::string number = text.substr(0, text.size() - 1);
  if (scale == 0 ||
      !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }))
    fail();
  const std::int64_t v = std::stoll(number);
  if (v == 0) fail();
  return std::chrono::seconds(v * scale);
}

std::string default_db_path() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/')
    return std::string(xdg) + "/duplex/chat.db";
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0')
    throw Error(
        "cannot find a home directory for the chat history ($HOME is not set); "
        "choose a file with --db PATH");
  return std::string(home) + "/.local/share/duplex/chat.db";
}

std::string url_host(const inet::Address& a) {
  return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
}

// The addresses a browser can use to reach a socket bound to `bind`: loopback first, then,
// for a wildcard bind, each interface address (getifaddrs) of a family the socket takes.
// IPv6 link-local ones are left out: a URL cannot carry their zone.
std::vector<inet::Address> reachable_hosts(const inet::Address& bind) {
  if (!bind.is_unspecified()) return {bind};
  std::vector<inet::Address> out{inet::Address::parse("127.0.0.1")};
  if (bind.is_v6()) out.push_back(inet::Address::parse("::1"));
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    const sockaddr* sa = i->ifa_addr;
    if (sa == nullptr || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) continue;
    if (sa->sa_family == AF_INET6 && bind.is_v4()) continue;
    const socklen_t len = sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    const auto e = inet::Endpoint::from_sockaddr(sa, len);
    if (!e) continue;
    const inet::Address a = e->address();
    if (a.is_loopback() || (a.is_link_local() && a.is_v6()) || a.is_unspecified()) continue;
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace

int serve_main(Argv argv) {
  Args args("duplex serve", argv,
            {{"bind", 0, true},
             {"port", 0, true},
             {"chat-port", 0, true},
             {"irc-port", 0, true},
             {"discovery-port", 0, true},
             {"no-discovery", 0, false},
             {"db", 0, true},
             {"token", 0, true},
             {"web", 0, true},
             {"log-level", 0, true},
             {"chat-rate", 0, true},
             {"chat-burst", 0, true},
             {"history-max", 0, true},
             {"history-max-age", 0, true},
             {"min-free", 0, true},
             {"capture-rate", 0, true},
             {"redis", 0, true},
             {"redis-maxlen", 0, true},
             {"tls", 0, false},
             kBackendOption,
             {"no-tls", 0, false},
             {"cert", 0, true},
             {"key", 0, true}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  args.expect_positionals(0, 0, "no arguments, only options (see duplex serve --help)");
  apply_backend_flag(args);
  if (auto l = args.value("log-level")) {
    const auto level = log::parse_level(*l);
    if (!level) args.fail("--log-level '" + *l + "' must be error, warn, info or debug");
    log::set_level(*level);
  }
  const inet::Address bind =
      args.value("bind") ? bind_address(args.value("bind")) : inet::Address::parse("127.0.0.1");
  const auto port = static_cast<std::uint16_t>(
      args.number("port", 0, 65535).value_or(apps::chat::kDefaultHttpPort));
  const auto chat_port = static_cast<std::uint16_t>(
      args.number("chat-port", 0, 65535).value_or(apps::chat::kDefaultChatPort));
  const auto discovery_port = static_cast<std::uint16_t>(
      args.number("discovery-port", 0, 65535).value_or(apps::chat::kDefaultDiscoveryPort));
  const bool discovery_on = !args.has("no-discovery");
  const std::string db =
      args.value("redis") ? std::string() : args.value("db").value_or(default_db_path());
  std::string token = args.value("token").value_or("");
  if (args.value("token") && token.empty())
    args.fail("--token cannot be empty; omit it to have a random token generated");
  // The token goes into a URL and a cookie as is: only characters neither needs escaped.
  if (!apps::token_is_url_safe(token))
    args.fail("--token '" + token +
              "' holds a character a URL or cookie would need escaped; use only letters, "
              "digits and - _ . ~");
  if (token.empty()) token = apps::random_token();
  const bool loopback = bind.is_loopback();
  if (args.has("tls") && args.has("no-tls")) args.fail("--tls and --no-tls exclude each other");
  const bool tls_on = args.has("tls") || (!loopback && !args.has("no-tls"));
  if (!tls_on && (args.has("cert") || args.has("key")))
    args.fail("--cert and --key are for TLS; add --tls (or leave out --no-tls)");
  if (args.has("cert") != args.has("key"))
    args.fail("--cert and --key go together: the certificate and its private key");
  const std::optional<ServerTls> tls =
      tls_on ? std::optional<ServerTls>(server_tls_context(args)) : std::nullopt;
  const std::optional<std::string> web_dir = args.value("web");
  apps::FloodLimits flood;
  flood.lines_per_s = static_cast<double>(args.number("chat-rate", 0, 1'000'000).value_or(10));
  flood.burst = static_cast<double>(args.number("chat-burst", 1, 1'000'000).value_or(20));
  apps::ChatRetention retention;
  retention.max_per_room =
      static_cast<std::int64_t>(args.number("history-max", 0, INT64_MAX).value_or(0));
  if (auto age = args.value("history-max-age")) retention.max_age = parse_age(args, *age);
  retention.min_free_bytes = parse_size(args, args.value("min-free").value_or("64MiB"));
  const auto capture_rate =
      static_cast<unsigned>(args.number("capture-rate", 1, 10000).value_or(100));
  std::optional<apps::ChatRedisOptions> redis;
  if (auto url = args.value("redis")) {
    redis.emplace();
    try {
      redis->url = redis::parse_url(*url);
    } catch (const ParseError& e) {
      args.fail(std::string("--redis ") + e.what());
    }
    if (const char* pw = std::getenv("DUPLEX_REDIS_PASSWORD");
        pw != nullptr && *pw != '\0' && redis->url.password.empty())
      redis->url.password = pw;
    redis->max_len = static_cast<std::int64_t>(
        args.number("redis-maxlen", 1, 1'000'000'000).value_or(redis->max_len));
  } else if (args.has("redis-maxlen")) {
    args.fail("--redis-maxlen needs --redis URL");
  }

  EventLoop loop;
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&loop](int) { loop.quit(); });
  std::unique_ptr<apps::ChatFeed> feed;
  if (redis)
    feed = std::make_unique<apps::ChatRedisFeed>(&loop, *redis);
  else
    feed = std::make_unique<apps::ChatLocalFeed>(&loop, db, retention);
  apps::ChatHub hub(std::move(feed));

  const apps::Access access(token, !loopback, tls.has_value());
  apps::ConnectionRegistry registry;
  apps::DashboardContext context;
  context.loop = &loop;
  context.version = kVersion;
  context.token_required = access.token_required();
  context.chat = &hub;
  context.has_token = [&access](const http::Request& req) { return access.has_token(req); };

  apps::ChatWsOptions ws_options;
  ws_options.flood = flood;
  apps::ChatWsEndpoint chat_ws(
      hub, ws_options,
      [&registry](const TcpConnectionPtr& c, const std::shared_ptr<const apps::ChatMember>& m) {
        registry.websocket(c, m);
      });
  http::Router router;
  apps::add_api_routes(router, context);
  chat_ws.add_route(router);
  apps::CaptureWsOptions capture_options;
  capture_options.max_rate = capture_rate;
  capture_options.has_token = context.has_token;
  apps::add_capture_routes(router, capture_options);
  apps::PerfWsOptions perf_options;
  perf_options.has_token = context.has_token;
  apps::add_perf_routes(router, perf_options);
  apps::ScanWsOptions scan_options;
  scan_options.has_token = context.has_token;
  apps::add_scan_routes(router, scan_options);
  router.add("GET", "/*path", apps::page_files_route(web_dir));

  http::ServerOptions options;
  // The largest body the API takes is a chat message (4 KiB of text): the parser reads a
  // body before the token is checked, so keep what a stranger can make us hold small.
  options.limits.max_body = 64 * 1024;
  if (tls) options.tcp.filter = tls::filter_factory(tls->context);
  options.on_connection = [&registry](const TcpConnectionPtr& c, bool is_up) {
    if (is_up) return registry.up(c);
    registry.down(c);
    // A client whose TLS handshake failed (plain HTTP, a bad ClientHello, the timeout).
    if (c->filter() && !c->filter()->established() && !c->close_reason().empty())
      log::warn("http", c->peer().to_string(), " TLS handshake failed: ", c->close_reason());
  };
  http::Server http_server(
      &loop, inet::Endpoint(bind, port),
      access.guard([&router](const http::Request& req, http::Response& res) { router(req, res); }),
      options);
  apps::ChatTcpOptions chat_options;
  chat_options.flood = flood;
  if (!loopback) chat_options.token = token;
  if (tls) chat_options.filter = tls::filter_factory(tls->context);
  apps::ChatTcpServer chat(&loop, inet::Endpoint(bind, chat_port), hub, chat_options);
  std::unique_ptr<apps::ChatTcpServer> irc;
  if (const auto irc_port = args.number("irc-port", 0, 65535)) {
    apps::ChatTcpOptions irc_options = chat_options;
    irc_options.irc = true;
    irc = std::make_unique<apps::ChatTcpServer>(
        &loop, inet::Endpoint(bind, static_cast<std::uint16_t>(*irc_port)), hub, irc_options);
  }
  std::unique_ptr<apps::DiscoveryResponder> discovery;
  if (discovery_on) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    apps::DiscoveryInfo info{
        kVersion,  host, chat.listen_endpoint().port(), http_server.listen_endpoint().port(),
        !loopback, ""};
    if (tls) {
      info.tls_sha256 = tls->fingerprint;
      std::erase(info.tls_sha256, ':');
    }
    discovery = std::make_unique<apps::DiscoveryResponder>(
        &loop, inet::Endpoint(inet::Address::parse("0.0.0.0"), discovery_port), info, loopback);
  }
  context.http_endpoint = http_server.listen_endpoint();
  context.chat_endpoint = chat.listen_endpoint();
  context.discovery_port = discovery ? discovery->local().port() : 0;
  context.connections = [&registry, &hub, &chat, &irc] {
    return registry.snapshot(hub, {&chat, irc.get()});
  };
  http_server.start();
  chat.start();
  if (irc) irc->start();

  const auto http_port_s = std::to_string(http_server.listen_endpoint().port());
  const auto hosts = reachable_hosts(http_server.listen_endpoint().address());
  // The first URL is the one to open here; a wildcard bind adds one per interface address
  // (never 0.0.0.0, which no browser can connect to).
  for (std::size_t i = 0; i < hosts.size(); ++i)
    std::cout << (i == 0 ? "dashboard  " : "           ") << (tls ? "https://" : "http://")
              << url_host(hosts[i]) << ':' << http_port_s << "/?token=" << token << '\n';
  const inet::Address chat_addr = chat.listen_endpoint().address();
  const std::string chat_host =
      url_host(chat_addr.is_unspecified() ? inet::Address::parse("127.0.0.1") : chat_addr);
  const std::string chat_port_s = std::to_string(chat.listen_endpoint().port());
  std::cout << "chat       " << (tls ? "tls " : "tcp ") << chat.listen_endpoint().to_string()
            << " (duplex chat " << (tls ? "--tls --pin SHA256 " : "")
            << (loopback ? "" : "--token TOKEN ") << chat_host
            << (chat.listen_endpoint().port() == apps::chat::kDefaultChatPort ? ""
                                                                              : ":" + chat_port_s)
            << (tls ? ", or ncat --ssl " : ", or nc ")
            << (chat_addr.is_unspecified() ? std::string("127.0.0.1") : chat_addr.to_string())
            << ' ' << chat_port_s << (loopback ? "" : " then /auth TOKEN")
            << (chat_addr.is_unspecified() ? "; or any host above" : "") << ")\n"
            << "irc        "
            << (irc ? std::string(tls ? "tls " : "tcp ") + irc->listen_endpoint().to_string() +
                          " (irssi -c " + chat_host + " -p " +
                          std::to_string(irc->listen_endpoint().port()) + (tls ? " -tls" : "") +
                          (loopback ? "" : " -w TOKEN") + ", then /join #lobby)"
                    : std::string("off (--irc-port PORT)"))
            << '\n'
            << "discovery  "
            << (discovery ? "udp " + discovery->local().to_string() +
                                (loopback ? " (answers loopback probes only)" : "")
                          : std::string("off"))
            << '\n'
            << "history    " << (redis ? "redis " : "") << hub.db_path()
            << (redis ? " (maxlen ~" + std::to_string(redis->max_len) + " per room)" : "") << '\n'
            << "tls        "
            << (tls ? "SHA-256 " + tls->fingerprint + " (" + tls->origin + ")"
                    : std::string(loopback ? "off"
                                           : "off (--no-tls): the token crosses the "
                                             "network in clear text"))
            << '\n'
            << "access     "
            << (loopback ? "loopback only; the token is needed to edit neighbours, capture, "
                           "scan and run perf"
                         : "beyond loopback: every HTTP request needs the token, and the TCP "
                           "chat /auth TOKEN as its first line")
            << '\n';
  std::cout.flush();
  loop.loop();
  std::cerr << "serve: stopping\n";
  http_server.stop();
  chat.stop();
  if (irc) irc->stop();
  return 0;
}

}  // namespace duplex::cli
