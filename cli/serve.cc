// `duplex serve`: the dashboard in the browser, and one chat room shared by terminals (TCP
// lines) and browsers (WebSocket), with its history in SQLite and a UDP discovery
// responder. One process, one EventLoop.
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "bind_address.h"
#include "commands.h"
#include "duplex/apps/chat/chat_hub.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/apps/chat/chat_tcp.h"
#include "duplex/apps/chat/chat_ws.h"
#include "duplex/apps/chat/discovery.h"
#include "duplex/apps/dashboard/dashboard.h"
#include "duplex/apps/dashboard/web_assets.h"
#include "duplex/base/error.h"
#include "duplex/inet/address.h"
#include "duplex/inet/endpoint.h"
#include "duplex/proto/http_json.h"
#include "duplex/proto/http_router.h"
#include "duplex/proto/http_server.h"
#include "duplex/proto/http_static.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_connection.h"
#include "duplex/transport/tcp_info.h"

namespace duplex::cli {
namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kHelp = R"(Usage: duplex serve [OPTIONS]

The dashboard in the browser and one chat shared by terminals and browsers, in one process:
  dashboard  HTTP and WebSocket on --bind:--port: the Connections, Address tools,
             Neighbours and Chat pages, and their JSON API (docs/api.md)
  chat       a TCP line protocol on --chat-port, for `duplex chat HOST` or plain nc; the
             browser joins the same rooms over WebSocket (/ws/chat)
  history    every message in SQLite; the last 100 of a room are replayed on join, and a
             message is acknowledged only once committed (kill -9 loses no acknowledged one)
  discovery  answers `duplex chat --discover` probes on UDP --discovery-port
On start it prints one line per service (the real ports when 0 was given; bound to 0.0.0.0
or ::, a dashboard URL per interface address, loopback first), then runs until SIGINT
(Ctrl-C) or SIGTERM.

Access: a token is generated at start (128 random bits) unless --token gives one; the
printed dashboard URL carries it (?token=...), and the page keeps it in an HttpOnly cookie.
On loopback it is needed only to change the neighbour table. Bound beyond loopback, every
HTTP request needs it (Authorization: Bearer TOKEN, ?token=TOKEN, or the cookie): 401
otherwise. The TCP chat port has no token (nc cannot send one): bound beyond loopback,
anyone who reaches it can read the room's history and chat; a firewall decides who that is.

Options:
  --bind ADDR            the dashboard's and chat's address (default 127.0.0.1; 0.0.0.0 or
                         :: for every interface, which requires the token)
  --port PORT            dashboard port (default 8080; 0: any free port)
  --chat-port PORT       TCP chat port (default 7000; 0: any free port)
  --discovery-port PORT  UDP discovery port on 0.0.0.0 (default 7001; 0: any free port,
                         which only a prober told the port finds)
  --no-discovery         do not answer discovery probes
  --db PATH              chat history file (default $XDG_DATA_HOME/duplex/chat.db, else
                         ~/.local/share/duplex/chat.db); its directory is created
  --token TOKEN          the access token instead of a random one (letters, digits, - _ . ~)
  --web DIR              serve the page's files from DIR (e.g. ./web, for front-end work)
                         instead of the copies embedded in the binary
  -h, --help             this help

Examples:
  duplex serve
  duplex serve --bind 0.0.0.0 --token s3cret
  duplex serve --port 0 --chat-port 0 --discovery-port 0 --db /tmp/chat.db
  duplex serve --web ./web
  nc 127.0.0.1 7000                  # chat from a terminal
  curl -H 'Authorization: Bearer TOKEN' http://127.0.0.1:8080/api/status

Exit status: 0 stopped by a signal, 1 could not start (port in use, database not
writable), 2 usage error.
)";

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

std::string random_token() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) throw Error("getrandom failed; give a token with --token TOKEN");
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

bool same_token(std::string_view given, const std::string& token) {
  // Constant time over the token's length; the length itself is not secret.
  return given.size() == token.size() &&
         CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

// The value of `key` in a query string ("a=1&token=x"), percent-decoded.
std::optional<std::string> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key && eq != std::string_view::npos) {
      std::string out;
      if (http::percent_decode(pair.substr(eq + 1), out)) return out;
      return std::nullopt;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::string_view> cookie_value(const http::Request& req, std::string_view key) {
  for (const auto& h : req.headers) {
    if (!http::iequals(h.name, "Cookie")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      const auto semi = v.find(';');
      std::string_view item = v.substr(0, semi);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      const auto eq = item.find('=');
      if (eq != std::string_view::npos && item.substr(0, eq) == key) return item.substr(eq + 1);
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Whether a Host field names this machine's loopback: localhost, 127.x.y.z or [::1].
bool loopback_host(std::string_view host) {
  std::string_view name = host;
  if (!name.empty() && name.front() == '[') {
    name = name.substr(1, name.find(']') == std::string_view::npos ? 0 : name.find(']') - 1);
  } else if (auto colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  if (http::iequals(name, "localhost")) return true;
  auto a = inet::Address::try_parse(name);
  return a && a->is_loopback();
}

// A browser's Origin, when sent, must be the page's own: http(s)://<Host>.
bool same_origin(const http::Request& req) {
  auto origin = req.header("Origin");
  if (!origin) return true;  // not a browser
  std::string_view o = *origin;
  if (starts_with(o, "http://"))
    o.remove_prefix(7);
  else if (starts_with(o, "https://"))
    o.remove_prefix(8);
  else
    return false;
  return http::iequals(o, req.host);
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

// Whether a browser says another site's page made this request (Fetch Metadata,
// Sec-Fetch-*): any fetch, image, script or frame from elsewhere. A top-level navigation
// (a link followed, the URL typed) is not one. Clients that send no Sec-Fetch-Site (curl,
// older browsers) are not judged here.
bool from_another_site(const http::Request& req) {
  auto site = req.header("Sec-Fetch-Site");
  if (!site || *site == "same-origin" || *site == "none") return false;
  auto mode = req.header("Sec-Fetch-Mode");
  auto dest = req.header("Sec-Fetch-Dest");
  const bool top_level = mode && *mode == "navigate" && dest && *dest == "document" &&
                         (req.method == "GET" || req.method == "HEAD");
  return !top_level;
}

// Every HTTP and WebSocket connection of the process (chat TCP ones live in the chat
// server), keyed by the connection.
class Registry {
 public:
  void up(const TcpConnectionPtr& c) { entries_[c.get()] = Entry{c, "http", {}}; }
  void down(const TcpConnectionPtr& c) { entries_.erase(c.get()); }
  void websocket(const TcpConnectionPtr& c, const std::shared_ptr<const apps::ChatMember>& m) {
    auto it = entries_.find(c.get());
    if (it == entries_.end()) return;
    it->second.protocol = "websocket";
    it->second.member = m;
  }

  std::vector<apps::ConnectionSnapshot> snapshot(const apps::ChatHub& hub,
                                                 const apps::ChatTcpServer& chat) const {
    std::vector<apps::ConnectionSnapshot> out;
    const auto now = Clock::now();
    auto add = [&](const TcpConnection& c, const std::string& protocol,
                   const apps::ChatMember* member) {
      apps::ConnectionSnapshot s;
      s.id = c.name();
      s.protocol = protocol;
      s.local = c.local();
      s.peer = c.peer();
      s.bytes_in = c.bytes_received();
      s.bytes_out = c.bytes_sent();
      s.age_s = std::chrono::duration<double>(now - c.established_at()).count();
      if (c.fd() >= 0) s.tcp = read_tcp_info(c.fd());
      if (member != nullptr) {
        s.chat_name = hub.name_of(member);
        s.chat_room = hub.room_of(member);
      }
      out.push_back(std::move(s));
    };
    chat.for_each(
        [&](const TcpConnectionPtr& c, const apps::ChatMember& m) { add(*c, "chat", &m); });
    for (const auto& [key, e] : entries_) {
      auto c = e.conn.lock();
      if (!c) continue;
      auto member = e.member.lock();
      add(*c, e.protocol, member.get());
    }
    return out;
  }

 private:
  struct Entry {
    std::weak_ptr<TcpConnection> conn;
    std::string protocol;
    std::weak_ptr<const apps::ChatMember> member;
  };
  std::map<const TcpConnection*, Entry> entries_;
};

void unauthorized(const http::Request& req, http::Response& res) {
  if (starts_with(req.path, "/api/")) {
    http::send_json_error(res, 401,
                          "this server needs its token: send Authorization: Bearer TOKEN or "
                          "?token=TOKEN (the URL duplex serve printed at start)");
  } else {
    res.text(401,
             "<!doctype html><meta charset=utf-8><title>duplex: token needed</title>"
             "<p>This duplex server is reachable beyond loopback, so it needs its token. Open "
             "the URL that <code>duplex serve</code> printed at start "
             "(<code>http://HOST:PORT/?token=...</code>), or start it with "
             "<code>--token TOKEN</code> and add <code>?token=TOKEN</code> to the URL.</p>\n",
             "text/html; charset=utf-8");
  }
  res.set("WWW-Authenticate", "Bearer realm=\"duplex\"");
}

// GET for the page's files: embedded, or from --web DIR.
http::RouteHandler static_route(const std::optional<std::string>& web_dir) {
  std::optional<http::Handler> files;
  if (web_dir) files = http::static_files({*web_dir, false});
  return [files](const http::Request& req, const http::Params&, http::Response& res) {
    if (starts_with(req.path, "/api/") || req.path == "/api") {
      http::send_json_error(res, 404, "no such API route; see docs/api.md");
      return;
    }
    if (files) {
      (*files)(req, res);
      return;
    }
    auto asset = apps::find_web_asset(req.path);
    if (!asset) {
      res.text(404, "not found: " + std::string(req.path) + "\n");
      return;
    }
    res.set("ETag", std::string(asset->etag));
    res.set("Cache-Control", "no-cache");
    if (auto inm = req.header("If-None-Match"); inm && *inm == asset->etag) {
      res.status = 304;
      return;
    }
    res.text(200, std::string(asset->body), asset->content_type);
  };
}

}  // namespace

int serve_main(Argv argv) {
  Args args("duplex serve", argv,
            {{"bind", 0, true},
             {"port", 0, true},
             {"chat-port", 0, true},
             {"discovery-port", 0, true},
             {"no-discovery", 0, false},
             {"db", 0, true},
             {"token", 0, true},
             {"web", 0, true}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  args.expect_positionals(0, 0, "no arguments, only options (see duplex serve --help)");
  const inet::Address bind =
      args.value("bind") ? bind_address(args.value("bind")) : inet::Address::parse("127.0.0.1");
  const auto port = static_cast<std::uint16_t>(
      args.number("port", 0, 65535).value_or(apps::chat::kDefaultHttpPort));
  const auto chat_port = static_cast<std::uint16_t>(
      args.number("chat-port", 0, 65535).value_or(apps::chat::kDefaultChatPort));
  const auto discovery_port = static_cast<std::uint16_t>(
      args.number("discovery-port", 0, 65535).value_or(apps::chat::kDefaultDiscoveryPort));
  const bool discovery_on = !args.has("no-discovery");
  const std::string db = args.value("db").value_or(default_db_path());
  std::string token = args.value("token").value_or("");
  if (args.value("token") && token.empty())
    args.fail("--token cannot be empty; omit it to have a random token generated");
  // The token goes into a URL and a cookie as is: only characters neither needs escaped.
  for (char c : token)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '~')
      args.fail("--token '" + token +
                "' holds a character a URL or cookie would need escaped; use only letters, "
                "digits and - _ . ~");
  if (token.empty()) token = random_token();
  const bool loopback = bind.is_loopback();
  const std::optional<std::string> web_dir = args.value("web");

  EventLoop loop;
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&loop](int) { loop.quit(); });
  apps::ChatHub hub(&loop, db);

  Registry registry;
  apps::DashboardContext context;
  context.loop = &loop;
  context.version = kVersion;
  context.token_required = !loopback;
  context.chat = &hub;
  context.has_token = [token](const http::Request& req) {
    // The scheme is case-insensitive (RFC 9110, 11.1): "bearer x" is as good.
    if (auto auth = req.header("Authorization");
        auth && auth->size() > 7 && http::iequals(auth->substr(0, 7), "Bearer "))
      if (same_token(auth->substr(7), token)) return true;
    if (auto q = query_value(req.query, "token"); q && same_token(*q, token)) return true;
    if (auto c = cookie_value(req, "duplex_token"); c && same_token(*c, token)) return true;
    return false;
  };

  apps::ChatWsEndpoint chat_ws(
      hub, {},
      [&registry](const TcpConnectionPtr& c, const std::shared_ptr<const apps::ChatMember>& m) {
        registry.websocket(c, m);
      });
  http::Router router;
  apps::add_api_routes(router, context);
  chat_ws.add_route(router);
  router.add("GET", "/*path", static_route(web_dir));

  http::ServerOptions options;
  // The largest body the API takes is a chat message (4 KiB of text): the parser reads a
  // body before the token is checked, so keep what a stranger can make us hold small.
  options.limits.max_body = 64 * 1024;
  options.on_connection = [&registry](const TcpConnectionPtr& c, bool is_up) {
    if (is_up)
      registry.up(c);
    else
      registry.down(c);
  };
  const bool token_required = context.token_required;
  auto handler = [&router, &context, token, token_required](const http::Request& req,
                                                            http::Response& res) {
    // No other site may frame the page (clickjacking), and the token in the page's URL
    // never leaves in a Referer.
    res.set("X-Frame-Options", "DENY");
    res.set("Content-Security-Policy", "frame-ancestors 'none'");
    res.set("Referrer-Policy", "no-referrer");
    res.set("X-Content-Type-Options", "nosniff");
    if (!token_required && !loopback_host(req.host)) {
      // Bound to loopback, only loopback names may reach us: a web page whose name was
      // rebound to 127.0.0.1 (DNS rebinding) is refused.
      res.text(403, "Host " + std::string(req.host) +
                        " is not a loopback name; open http://127.0.0.1:PORT/ (or start duplex "
                        "serve with --bind ADDR to serve other names, with a token)\n");
      return;
    }
    if (req.upgrade && !same_origin(req)) {
      // A WebSocket opened by another site's page (cross-site WebSocket hijacking).
      res.text(403, "a WebSocket from another origin is refused; open the dashboard itself\n");
      res.close = true;
      return;
    }
    if (from_another_site(req)) {
      // Another site's page fetching from us (e.g. many no-cors GETs of a large split to
      // stall the loop, or reading by timing): only the dashboard's own requests count.
      http::send_json_error(res, 403,
                            "a request from another site's page is refused (Sec-Fetch-Site); "
                            "open the dashboard itself");
      return;
    }
    if (req.method != "GET" && req.method != "HEAD" && !same_origin(req)) {
      // Another site's page posting a form or a simple fetch here (cross-site request
      // forgery: on loopback, chat messages need no token).
      http::send_json_error(res, 403,
                            "a request from another origin's page is refused; use the "
                            "dashboard itself, or a client that sends no Origin (curl)");
      return;
    }
    const bool authorized = context.has_token(req);
    if (token_required && !authorized) return unauthorized(req, res);
    router(req, res);
    // A page opened with a valid ?token= keeps it in a cookie that scripts cannot read, so
    // the page's own requests (fetch, WebSocket) carry it.
    if (authorized && !starts_with(req.path, "/api/")) {
      if (auto q = query_value(req.query, "token"); q && same_token(*q, token))
        res.set("Set-Cookie", "duplex_token=" + token + "; Path=/; HttpOnly; SameSite=Strict");
    }
  };
  http::Server http_server(&loop, inet::Endpoint(bind, port), handler, options);
  apps::ChatTcpServer chat(&loop, inet::Endpoint(bind, chat_port), hub);
  std::unique_ptr<apps::DiscoveryResponder> discovery;
  if (discovery_on) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    apps::DiscoveryInfo info{kVersion, host, chat.listen_endpoint().port(),
                             http_server.listen_endpoint().port(), !loopback};
    discovery = std::make_unique<apps::DiscoveryResponder>(
        &loop, inet::Endpoint(inet::Address::parse("0.0.0.0"), discovery_port), info, loopback);
  }
  context.http_endpoint = http_server.listen_endpoint();
  context.chat_endpoint = chat.listen_endpoint();
  context.discovery_port = discovery ? discovery->local().port() : 0;
  context.connections = [&registry, &hub, &chat] { return registry.snapshot(hub, chat); };
  http_server.start();
  chat.start();

  const auto http_port_s = std::to_string(http_server.listen_endpoint().port());
  const auto hosts = reachable_hosts(http_server.listen_endpoint().address());
  // The first URL is the one to open here; a wildcard bind adds one per interface address
  // (never 0.0.0.0, which no browser can connect to).
  for (std::size_t i = 0; i < hosts.size(); ++i)
    std::cout << (i == 0 ? "dashboard  " : "           ") << "http://" << url_host(hosts[i]) << ':'
              << http_port_s << "/?token=" << token << '\n';
  const inet::Address chat_addr = chat.listen_endpoint().address();
  const std::string chat_host =
      url_host(chat_addr.is_unspecified() ? inet::Address::parse("127.0.0.1") : chat_addr);
  const std::string chat_port_s = std::to_string(chat.listen_endpoint().port());
  std::cout << "chat       tcp " << chat.listen_endpoint().to_string() << " (duplex chat "
            << chat_host
            << (chat.listen_endpoint().port() == apps::chat::kDefaultChatPort ? ""
                                                                              : ":" + chat_port_s)
            << ", or nc "
            << (chat_addr.is_unspecified() ? std::string("127.0.0.1") : chat_addr.to_string())
            << ' ' << chat_port_s << (chat_addr.is_unspecified() ? "; or any host above" : "")
            << ")\n"
            << "discovery  "
            << (discovery ? "udp " + discovery->local().to_string() +
                                (loopback ? " (answers loopback probes only)" : "")
                          : std::string("off"))
            << '\n'
            << "history    " << hub.db_path() << '\n'
            << "access     "
            << (loopback ? "loopback only; the token is needed to change neighbours"
                         : "beyond loopback: every HTTP request needs the token; the TCP chat "
                           "port takes anyone who reaches it")
            << '\n';
  std::cout.flush();
  loop.loop();
  std::cerr << "serve: stopping\n";
  http_server.stop();
  chat.stop();
  return 0;
}

}  // namespace duplex::cli
