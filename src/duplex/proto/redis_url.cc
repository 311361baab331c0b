#include "duplex/proto/redis_url.h"

#include <charconv>

#include "duplex/base/error.h"

namespace duplex::redis {

namespace {

constexpr std::string_view kForm = "redis://[user:password@]host[:port][/db]";

[[noreturn]] void fail(std::string_view text, const std::string& why) {
  throw ParseError("'" + std::string(text) + "' is not a Redis URL: " + why + "; write " +
                   std::string(kForm));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes of the user or password; false on a broken one.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    const int hi = i + 1 < in.size() ? hex_digit(in[i + 1]) : -1;
    const int lo = i + 2 < in.size() ? hex_digit(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

Url parse_url(std::string_view text) {
  Url url;
  constexpr std::string_view kScheme = "redis://";
  if (text.starts_with("rediss://"))
    fail(text, "TLS to Redis (rediss://) is not supported; use a redis:// URL on a trusted link");
  if (text.starts_with("unix:") || text.starts_with("/"))
    fail(text, "a Unix socket is not supported; give host and port");
  if (!text.starts_with(kScheme)) fail(text, "it must start with redis://");
  std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos)
    fail(text, "query and fragment (? #) are not supported");

  // Credentials: everything before the last '@' (a password may hold '@' only escaped).
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view cred = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const auto colon = cred.find(':');
    if (colon == std::string_view::npos)
      fail(text, "credentials need a colon: user:password@ or :password@");
    if (!percent_decode(cred.substr(0, colon), url.user) ||
        !percent_decode(cred.substr(colon + 1), url.password))
      fail(text, "a % in the user or password must start an escape such as %40");
    if (url.password.empty()) fail(text, "the password after ':' is empty");
  }

  std::string_view authority = rest;
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }

  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) fail(text, "'[' of an IPv6 address has no ']'");
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') fail(text, "after ']' only :port may follow");
      port_text = after.substr(1);
      has_port = true;
    }
    for (char c : url.host)
      if (hex_digit(c) < 0 && c != ':' && c != '.')
        fail(text, "'" + url.host + "' is not an IPv6 address");
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos)
      fail(text, "an IPv6 address goes in brackets: redis://[::1]:6379");
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    for (char c : url.host)
      if (!valid_host_char(c))
        fail(text, "the host '" + url.host + "' holds '" + std::string(1, c) +
                       "' (an IPv6 address goes in brackets: [::1])");
  }
  if (url.host.empty()) fail(text, "the host is missing");
  if (has_port) {
    unsigned port = 0;
    if (!parse_number(port_text, port) || port == 0 || port > 65535)
      fail(text, "the port '" + std::string(port_text) + "' must be a number from 1 to 65535");
    url.port = static_cast<std::uint16_t>(port);
  }
  if (!path.empty()) {
    unsigned db = 0;
    if (!parse_number(path, db) || db > 1'000'000)
      fail(text, "the database '/" + std::string(path) + "' must be a number such as /0 or /2");
    url.db = static_cast<int>(db);
  } else if (rest.ends_with('/')) {
    fail(text, "a '/' must be followed by the database number (or left out)");
  }
  return url;
}

std::string Url::endpoint() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::redacted() const {
  std::string out = "redis://";
  if (!password.empty()) out += user + ":***@";
  out += endpoint();
  if (db != 0) out += "/" + std::to_string(db);
  return out;
}

}  // namespace duplex::redis
