// Public. Who may use the dashboard, decided before any route runs: the token (from
// Authorization: Bearer, ?token= or the HttpOnly cookie) and the browser rules that keep
// other sites' pages out (Host on loopback, Origin, Sec-Fetch-Site). `duplex serve` puts
// `guard()` in front of its router; the rules are unit-tested here rather than in cli/.
//
// Threading: an Access is immutable after construction; any thread may use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "duplex/proto/http_server.h"

namespace duplex::apps {

// 128 random bits as 32 hex digits (getrandom). Throws duplex::Error if the kernel refuses.
std::string random_token();

// Whether a token can go into a URL and a cookie as is: letters, digits and - _ . ~.
bool token_is_url_safe(std::string_view token);

// The value of `key` in a query string ("a=1&token=x"), percent-decoded; nullopt when
// absent or badly encoded.
std::optional<std::string> query_value(std::string_view query, std::string_view key);

// Whether a Host field names this machine's loopback: localhost, 127.x.y.z or [::1].
bool loopback_host(std::string_view host);

class Access {
 public:
  // token_required: bound beyond loopback, every request needs the token; on loopback
  // only routes that ask for it (neighbour edits) do. https: the cookie is marked Secure
  // (never sent back over plain HTTP).
  Access(std::string token, bool token_required, bool https = false);

  const std::string& token() const noexcept { return token_; }
  bool token_required() const noexcept { return token_required_; }

  // Whether the request carries the token, compared in constant time.
  bool has_token(const http::Request& req) const;

  // Sets the security headers every response carries, then judges the request. Returns
  // false, with `res` filled (401/403 naming the fix), when it must not reach a route.
  bool admit(const http::Request& req, http::Response& res) const;

  // A handler that runs `inner` only for admitted requests; a page opened with a valid
  // ?token= gets it back as a cookie that scripts cannot read, so the page's own
  // requests (fetch, WebSocket) carry it. This Access must outlive the handler.
  http::Handler guard(http::Handler inner) const;

 private:
  std::string token_;
  bool token_required_;
  bool https_;
};

}  // namespace duplex::apps
