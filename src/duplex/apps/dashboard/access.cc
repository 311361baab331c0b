#include "duplex/apps/dashboard/access.h"

#include <sys/random.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "duplex/apps/chat/chat_auth.h"  // same_token
#include "duplex/base/error.h"
#include "duplex/base/log.h"
#include "duplex/inet/address.h"
#include "duplex/proto/http_json.h"
#include "duplex/proto/http_router.h"

namespace duplex::apps {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
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

// The client gets the status and the reason; the operator one warn line.
void log_refused(const http::Request& req, const http::Response& res) {
  if (!log::enabled(log::Level::warn)) return;
  std::string_view why = res.status == 401 ? "no token" : std::string_view(res.body);
  why = why.substr(0, std::min<std::size_t>(why.find('\n'), 200));
  log::warn("http", "refused ", req.method, " ", req.path, " (Host ", req.host, "): ", res.status,
            " ", why);
}

}  // namespace

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

bool token_is_url_safe(std::string_view token) {
  for (char c : token)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '~')
      return false;
  return true;
}

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

Access::Access(std::string token, bool token_required, bool https)
    : token_(std::move(token)), token_required_(token_required), https_(https) {}

bool Access::has_token(const http::Request& req) const {
  // The scheme is case-insensitive (RFC 9110, 11.1): "bearer x" is as good.
  if (auto auth = req.header("Authorization");
      auth && auth->size() > 7 && http::iequals(auth->substr(0, 7), "Bearer "))
    if (same_token(auth->substr(7), token_)) return true;
  if (auto q = query_value(req.query, "token"); q && same_token(*q, token_)) return true;
  if (auto c = cookie_value(req, "duplex_token"); c && same_token(*c, token_)) return true;
  return false;
}

bool Access::admit(const http::Request& req, http::Response& res) const {
  // No other site may frame the page (clickjacking) or inject a script into it, and the
  // token in the page's URL never leaves in a Referer.
  res.set("X-Frame-Options", "DENY");
  res.set("Content-Security-Policy", "frame-ancestors 'none'; script-src 'self'");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Content-Type-Options", "nosniff");
  if (!token_required_ && !loopback_host(req.host)) {
    // Bound to loopback, only loopback names may reach us: a web page whose name was
    // rebound to 127.0.0.1 (DNS rebinding) is refused.
    res.text(403, "Host " + std::string(req.host) +
                      " is not a loopback name; open http://127.0.0.1:PORT/ (or start duplex "
                      "serve with --bind ADDR to serve other names, with a token)\n");
    return false;
  }
  if (req.upgrade && !same_origin(req)) {
    // A WebSocket opened by another site's page (cross-site WebSocket hijacking).
    res.text(403, "a WebSocket from another origin is refused; open the dashboard itself\n");
    res.close = true;
    return false;
  }
  if (from_another_site(req)) {
    // Another site's page fetching from us (e.g. many no-cors GETs of a large split to
    // stall the loop, or reading by timing): only the dashboard's own requests count.
    http::send_json_error(res, 403,
                          "a request from another site's page is refused (Sec-Fetch-Site); "
                          "open the dashboard itself");
    return false;
  }
  if (req.method != "GET" && req.method != "HEAD" && !same_origin(req)) {
    // Another site's page posting a form or a simple fetch here (cross-site request
    // forgery: on loopback, chat messages need no token).
    http::send_json_error(res, 403,
                          "a request from another origin's page is refused; use the "
                          "dashboard itself, or a client that sends no Origin (curl)");
    return false;
  }
  if (token_required_ && !has_token(req)) {
    unauthorized(req, res);
    return false;
  }
  return true;
}

http::Handler Access::guard(http::Handler inner) const {
  return [this, inner = std::move(inner)](const http::Request& req, http::Response& res) {
    if (!admit(req, res)) return log_refused(req, res);
    inner(req, res);
    // A page opened with a valid ?token= keeps it in a cookie that scripts cannot read.
    if (!starts_with(req.path, "/api/")) {
      if (auto q = query_value(req.query, "token"); q && same_token(*q, token_))
        res.set("Set-Cookie", "duplex_token=" + token_ + "; Path=/; HttpOnly; SameSite=Strict" +
                                  (https_ ? "; Secure" : ""));
    }
  };
}

}  // namespace duplex::apps
