// apps/dashboard/access: the token and the browser rules that `duplex serve` applies before
// any route, on requests parsed from text.
#include "duplex/apps/dashboard/access.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "duplex/proto/http_parser.h"
#include "duplex/proto/http_response.h"

namespace duplex::apps {
namespace {

struct Outcome {
  bool routed = false;
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers)
      if (n == name) return v;
    return "";
  }
};

// Parses a request head (CRLFs added) and passes it through access.guard().
Outcome send(const Access& access, const std::string& request_line,
             const std::vector<std::string>& fields) {
  std::string text = request_line + "\r\n";
  for (const auto& f : fields) text += f + "\r\n";
  text += "\r\n";
  http::RequestParser parser;
  http::Request req;
  Outcome out;
  if (parser.parse_head(text, req) != http::RequestParser::Result::kComplete) {
    ADD_FAILURE() << "request did not parse: " << text;
    return out;
  }
  http::Response res;
  auto handler = access.guard([&out](const http::Request&, http::Response& r) {
    out.routed = true;
    r.text(200, "routed\n");
  });
  handler(req, res);
  out.status = res.status;
  out.body = res.body;
  out.headers = res.headers;
  return out;
}

TEST(DashboardAccess, OnLoopbackARequestWithoutTheTokenReachesTheRoute) {
  const Access access("s3cret", false);
  const auto r = send(access, "GET /api/status HTTP/1.1", {"Host: 127.0.0.1:8080"});
  EXPECT_TRUE(r.routed);
  EXPECT_EQ(r.status, 200);
}

TEST(DashboardAccess, BeyondLoopbackARequestWithoutTheTokenIs401NamingTheFix) {
  const Access access("s3cret", true);
  const auto r = send(access, "GET /api/status HTTP/1.1", {"Host: 192.0.2.1:8080"});
  EXPECT_FALSE(r.routed);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("Authorization: Bearer TOKEN"), std::string::npos) << r.body;
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"duplex\"");
}

TEST(DashboardAccess, TheTokenIsTakenFromBearerOfAnyCaseQueryOrCookie) {
  const Access access("s3cret", true);
  for (const auto& [line, field] : std::vector<std::pair<std::string, std::string>>{
           {"GET /api/status HTTP/1.1", "Authorization: bearer s3cret"},
           {"GET /api/status?token=s3cret HTTP/1.1", "Accept: */*"},
           {"GET /api/status?x=1&token=s3cr%65t HTTP/1.1", "Accept: */*"},
           {"GET /api/status HTTP/1.1", "Cookie: a=b; duplex_token=s3cret"}}) {
    const auto r = send(access, line, {"Host: 192.0.2.1:8080", field});
    EXPECT_TRUE(r.routed) << line << " / " << field;
  }
  for (const auto& field : {"Authorization: Bearer s3cre", "Authorization: Basic s3cret",
                            "Cookie: duplex_token=s3cretX"}) {
    const auto r = send(access, "GET /api/status HTTP/1.1", {"Host: 192.0.2.1:8080", field});
    EXPECT_EQ(r.status, 401) << field;
  }
}

TEST(DashboardAccess, APageOpenedWithTheTokenGetsItAsAnHttpOnlyStrictCookie) {
  const Access access("s3cret", true);
  const auto page = send(access, "GET /?token=s3cret HTTP/1.1", {"Host: 192.0.2.1:8080"});
  EXPECT_EQ(page.header("Set-Cookie"), "duplex_token=s3cret; Path=/; HttpOnly; SameSite=Strict");
  const auto api = send(access, "GET /api/status?token=s3cret HTTP/1.1", {"Host: 192.0.2.1"});
  EXPECT_EQ(api.header("Set-Cookie"), "");
}

TEST(DashboardAccess, OnLoopbackANonLoopbackHostIsRefused) {  // DNS rebinding
  const Access access("s3cret", false);
  for (const auto* host : {"Host: evil.example", "Host: 192.0.2.1:8080", "Host: [2001:db8::1]"}) {
    const auto r = send(access, "GET / HTTP/1.1", {host});
    EXPECT_EQ(r.status, 403) << host;
    EXPECT_FALSE(r.routed);
  }
  for (const auto* host : {"Host: localhost:8080", "Host: 127.0.0.2", "Host: [::1]:8080"})
    EXPECT_TRUE(send(access, "GET / HTTP/1.1", {host}).routed) << host;
}

TEST(DashboardAccess, AWebSocketFromAnotherOriginIsRefused) {
  const Access access("s3cret", false);
  const std::vector<std::string> upgrade{"Host: 127.0.0.1:8080", "Connection: Upgrade",
                                         "Upgrade: websocket"};
  auto cross = upgrade;
  cross.emplace_back("Origin: http://evil.example");
  EXPECT_EQ(send(access, "GET /ws/chat HTTP/1.1", cross).status, 403);
  auto same = upgrade;
  same.emplace_back("Origin: http://127.0.0.1:8080");
  EXPECT_TRUE(send(access, "GET /ws/chat HTTP/1.1", same).routed);
}

TEST(DashboardAccess, AnotherSitesFetchIsRefusedButATopLevelNavigationIsNot) {
  const Access access("s3cret", false);
  const auto fetch = send(access, "GET /api/ip/split HTTP/1.1",
                          {"Host: 127.0.0.1:8080", "Sec-Fetch-Site: cross-site",
                           "Sec-Fetch-Mode: no-cors", "Sec-Fetch-Dest: image"});
  EXPECT_EQ(fetch.status, 403);
  const auto nav = send(access, "GET / HTTP/1.1",
                        {"Host: 127.0.0.1:8080", "Sec-Fetch-Site: cross-site",
                         "Sec-Fetch-Mode: navigate", "Sec-Fetch-Dest: document"});
  EXPECT_TRUE(nav.routed);
}

TEST(DashboardAccess, APostFromAnotherOriginIsRefused) {  // request forgery
  const Access access("s3cret", false);
  const auto r = send(access, "POST /api/chat/messages HTTP/1.1",
                      {"Host: 127.0.0.1:8080", "Origin: http://evil.example"});
  EXPECT_EQ(r.status, 403);
  EXPECT_FALSE(r.routed);
}

TEST(DashboardAccess, EveryResponseCarriesTheSecurityHeaders) {
  const Access access("s3cret", true);
  for (const auto& r : {send(access, "GET / HTTP/1.1", {"Host: 192.0.2.1"}),
                        send(access, "GET /?token=s3cret HTTP/1.1", {"Host: 192.0.2.1"})}) {
    EXPECT_EQ(r.header("X-Frame-Options"), "DENY");
    EXPECT_EQ(r.header("Content-Security-Policy"), "frame-ancestors 'none'; script-src 'self'");
    EXPECT_EQ(r.header("Referrer-Policy"), "no-referrer");
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  }
}

TEST(DashboardAccess, ATokenMustBeUrlAndCookieSafe) {
  EXPECT_TRUE(token_is_url_safe("aZ09-_.~"));
  for (const auto* bad : {"a&b", "a b", "a;b", "a%20", "a=b"}) EXPECT_FALSE(token_is_url_safe(bad));
}

TEST(DashboardAccess, RandomTokensAre32HexDigitsAndDiffer) {
  const auto a = random_token();
  const auto b = random_token();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace duplex::apps
