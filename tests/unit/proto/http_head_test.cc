// HTTP heads as captured on loopback (curl 7.88.1 against python3 -m http.server, tcpdump -w;
// the ports moved to 80 so that tcpdump prints them), checked with tshark -T json and
// tcpdump -nn on the same segments.
#include "duplex/proto/http_head.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "../dissect_fields.h"

namespace duplex::http {
namespace {

using Bytes = std::vector<std::uint8_t>;
using dissect::Problem;
using test::field_value;
using test::find_field;

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

const Bytes kGet = bytes_of(
    "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:18081\r\nUser-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n\r\n");
const Bytes kOk = bytes_of(
    "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n"
    "Date: Sat, 05 Dec 2026 07:44:57 GMT\r\nContent-type: text/html\r\nContent-Length: 6\r\n"
    "Last-Modified: Sat, 05 Dec 2026 07:44:55 GMT\r\n\r\n");
const Bytes kPost = bytes_of(
    "POST /api HTTP/1.1\r\nHost: 127.0.0.1:18081\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
    "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
const Bytes kNotImplemented = bytes_of(
    "HTTP/1.0 501 Unsupported method ('POST')\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n"
    "Date: Sat, 05 Dec 2026 07:44:57 GMT\r\nConnection: close\r\n"
    "Content-Type: text/html;charset=utf-8\r\nContent-Length: 357\r\n\r\n");

TEST(HttpHead, DecodesARequest) {
  ASSERT_EQ(kGet.size(), 89u);
  const auto h = decode_http_head(kGet);
  ASSERT_FALSE(h.problem) << h.problem.what;
  EXPECT_EQ(h.kind, HttpHead::Kind::request);
  EXPECT_EQ(h.method.in(kGet), "GET");
  EXPECT_EQ(h.target.in(kGet), "/index.html");
  EXPECT_EQ(h.version.in(kGet), "HTTP/1.1");
  EXPECT_EQ(h.field_count, 3);
  EXPECT_EQ(h.head_length, 89u);
  EXPECT_FALSE(h.continues);
  ASSERT_NE(h.find(kGet, "user-agent"), nullptr);
  EXPECT_EQ(h.find(kGet, "user-agent")->value.in(kGet), "curl/7.88.1");
  EXPECT_EQ(summary(h, kGet), "HTTP: GET /index.html HTTP/1.1");  // tcpdump -nn
  dissect::Header out;
  describe(h, kGet, 66, out);
  EXPECT_EQ(out.protocol, "HTTP");
  EXPECT_EQ(out.layer, dissect::Layer::application);
  // tshark -T json.
  EXPECT_EQ(field_value(out, "http.request.method"), "GET");
  EXPECT_EQ(field_value(out, "http.request.uri"), "/index.html");
  EXPECT_EQ(find_field(out, "http.request.uri")->offset, 66u + 4);
  EXPECT_EQ(field_value(out, "http.request.version"), "HTTP/1.1");
  EXPECT_EQ(field_value(out, "http.host"), "127.0.0.1:18081");
  EXPECT_EQ(field_value(out, "http.user_agent"), "curl/7.88.1");
  EXPECT_EQ(field_value(out, "http.accept"), "*/*");
  EXPECT_EQ(field_value(out, "http.request.line", 0), "Host: 127.0.0.1:18081");
  EXPECT_EQ(field_value(out, "http.request.line", 2), "Accept: */*");
  EXPECT_EQ(find_field(out, "http.request.line", 3), nullptr);
  EXPECT_EQ(find_field(out, "http.body"), nullptr);
}

TEST(HttpHead, DecodesAResponse) {
  const auto h = decode_http_head(kOk);
  ASSERT_FALSE(h.problem) << h.problem.what;
  EXPECT_EQ(h.kind, HttpHead::Kind::response);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.reason.in(kOk), "OK");
  EXPECT_EQ(h.content_length, 6u);
  EXPECT_EQ(h.head_length, kOk.size());
  EXPECT_EQ(summary(h, kOk), "HTTP: HTTP/1.0 200 OK");
  dissect::Header out;
  describe(h, kOk, 0, out);
  EXPECT_EQ(field_value(out, "http.response.version"), "HTTP/1.0");
  EXPECT_EQ(field_value(out, "http.response.code"), "200");
  EXPECT_EQ(find_field(out, "http.response.code")->meaning, "OK");
  EXPECT_EQ(find_field(out, "http.response.code")->offset, 9u);
  EXPECT_EQ(field_value(out, "http.response.phrase"), "OK");
  EXPECT_EQ(field_value(out, "http.server"), "SimpleHTTP/0.6 Python/3.11.2");
  EXPECT_EQ(field_value(out, "http.content_type"), "text/html");  // "Content-type"
  EXPECT_EQ(field_value(out, "http.content_length_header"), "6");
  EXPECT_EQ(field_value(out, "http.last_modified"), "Sat, 05 Dec 2026 07:44:55 GMT");
  EXPECT_EQ(field_value(out, "http.response.line", 4),
            "Last-Modified: Sat, 05 Dec 2026 07:44:55 GMT");

  const auto error = decode_http_head(kNotImplemented);
  ASSERT_FALSE(error.problem) << error.problem.what;
  EXPECT_EQ(error.status, 501);
  EXPECT_EQ(summary(error, kNotImplemented), "HTTP: HTTP/1.0 501 Unsupported method ('POST')");
  out = {};
  describe(error, kNotImplemented, 0, out);
  EXPECT_EQ(field_value(out, "http.response.phrase"), "Unsupported method ('POST')");
  EXPECT_EQ(find_field(out, "http.response.code")->meaning, "Not Implemented");
  EXPECT_EQ(field_value(out, "http.connection"), "close");
  EXPECT_EQ(field_value(out, "http.content_type"), "text/html;charset=utf-8");
}

TEST(HttpHead, SaysWhereTheHeadEndsAndTheBodyStarts) {
  const auto h = decode_http_head(kPost);
  ASSERT_FALSE(h.problem) << h.problem.what;
  EXPECT_EQ(h.head_length, kPost.size() - 7);
  EXPECT_EQ(h.content_length, 7u);
  dissect::Header out;
  describe(h, kPost, 0, out);
  EXPECT_EQ(field_value(out, "http.content_type"), "application/json");
  EXPECT_EQ(field_value(out, "http.body"), "7 bytes");
  EXPECT_EQ(find_field(out, "http.body")->offset, h.head_length);
  EXPECT_EQ(summary(h, kPost), "HTTP: POST /api HTTP/1.1");
}

TEST(HttpHead, ASegmentOfBodyDataIsNamedOnly) {
  const Bytes body = bytes_of("hello\n");
  const auto h = decode_http_head(body);
  EXPECT_FALSE(h.problem);
  EXPECT_FALSE(h.is_message());
  EXPECT_EQ(summary(h, body), "HTTP");  // tcpdump -nn
  dissect::Header out;
  describe(h, body, 0, out);
  EXPECT_EQ(field_value(out, "http.data"), "6 bytes");
  EXPECT_FALSE(looks_like_http(body));
  EXPECT_TRUE(looks_like_http(kGet));
  EXPECT_TRUE(looks_like_http(kOk));
}

TEST(HttpHead, SummariesFollowTcpdumpsMethodList) {
  // tcpdump -nn on these segments to port 80.
  const Bytes lower = bytes_of("get /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(summary(decode_http_head(lower), lower), "HTTP: get /x HTTP/1.1");
  const Bytes patch = bytes_of("PATCH /x HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto h = decode_http_head(patch);
  EXPECT_EQ(h.kind, HttpHead::Kind::request);  // a request all the same
  EXPECT_EQ(h.method.in(patch), "PATCH");
  EXPECT_EQ(summary(h, patch), "HTTP");
  const Bytes bare_lf = bytes_of("GET /x HTTP/1.1\nHost: a\n\n");
  const auto lf = decode_http_head(bare_lf);
  EXPECT_FALSE(lf.problem);
  EXPECT_EQ(lf.head_length, bare_lf.size());
  EXPECT_EQ(summary(lf, bare_lf), "HTTP: GET /x HTTP/1.1");
  const Bytes no_content = bytes_of("HTTP/1.1 204\r\n\r\n");
  const auto empty_reason = decode_http_head(no_content);
  EXPECT_FALSE(empty_reason.problem);
  EXPECT_EQ(empty_reason.status, 204);
  EXPECT_EQ(summary(empty_reason, no_content), "HTTP: HTTP/1.1 204");
}

TEST(HttpHead, AHeadThatGoesOnInTheNextSegmentContinues) {
  for (std::size_t n = 1; n < kGet.size(); ++n) {
    const std::span<const std::uint8_t> prefix(kGet.data(), n);
    const auto h = decode_http_head(prefix);
    if (n >= 4) {
      EXPECT_EQ(h.kind, HttpHead::Kind::request) << n;
      EXPECT_TRUE(h.continues) << n;
    }
    EXPECT_FALSE(h.problem) << n << " " << h.problem.what;
    EXPECT_EQ(h.head_length, 0u);
    dissect::Header out;
    describe(h, prefix, 0, out);
    for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, n) << f.key;
  }
}

TEST(HttpHead, EveryPrefixCutByTheCaptureIsTruncated) {
  for (const Bytes* segment : {&kGet, &kOk, &kPost}) {
    const auto length = static_cast<std::uint32_t>(segment->size());
    // kPost's head ends before its body: a cut in the body leaves the head whole.
    const std::size_t head = segment == &kPost ? segment->size() - 7 : segment->size();
    for (std::size_t n = 0; n < head; ++n) {
      const std::span<const std::uint8_t> prefix(segment->data(), n);
      const auto h = decode_http_head(prefix, length);
      EXPECT_EQ(h.problem.kind, Problem::Kind::truncated) << n;
      EXPECT_LE(h.problem.at, n);
      dissect::Header out;
      describe(h, prefix, 0, out);
      EXPECT_NE(out.problem, "") << n;
      for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, n) << f.key;
      EXPECT_FALSE(summary(h, prefix).empty());
    }
  }
}

TEST(HttpHead, MalformedStartAndFieldLinesAreNamed) {
  const auto problem = [](std::string_view text) {
    const Bytes b = bytes_of(text);
    const auto h = decode_http_head(b);
    EXPECT_EQ(h.problem.kind, Problem::Kind::malformed) << text;
    dissect::Header out;
    describe(h, b, 0, out);
    return std::string(h.problem.what);
  };
  EXPECT_EQ(problem("HTTP/1.1 2x0 OK\r\n\r\n"), "the status code is not 3 digits");
  EXPECT_EQ(problem("HTTP/1.1 2000 OK\r\n\r\n"), "the status code is not 3 digits");
  EXPECT_EQ(problem("HTTP/x.1 200 OK\r\n\r\n"), "the version is not HTTP/<digit>.<digit>");
  EXPECT_EQ(problem("GET /x\r\n\r\n"), "the request line does not end with HTTP/<d>.<d>");
  EXPECT_EQ(problem("GET /a b HTTP/1.1\r\n\r\n"), "the request target is empty or has a space");
  EXPECT_EQ(problem("GET / HTTP/1.1\r\nHost\r\n\r\n"), "a field line has no name and colon");
  EXPECT_EQ(problem("GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
            "a field name has a character that is not a token character");
  EXPECT_EQ(problem("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"),
            "a field line starts with whitespace (obsolete line folding)");
  // The fields before the bad line are kept.
  const Bytes b = bytes_of("GET / HTTP/1.1\r\nHost: a\r\nBad line\r\n\r\n");
  const auto h = decode_http_head(b);
  EXPECT_EQ(h.field_count, 1);
  EXPECT_EQ(h.problem.at, 25u);
}

TEST(HttpHead, FieldsPastTheFirst32AreCounted) {
  std::string text = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 40; ++i) text += "X-" + std::to_string(i) + ": v\r\n";
  text += "Host: late\r\n\r\n";
  const Bytes b = bytes_of(text);
  const auto h = decode_http_head(b);
  ASSERT_FALSE(h.problem) << h.problem.what;
  EXPECT_EQ(h.field_count, HttpHead::kMaxFields);
  EXPECT_EQ(h.field_lines, 41);
  EXPECT_EQ(h.head_length, b.size());
  dissect::Header out;
  describe(h, b, 0, out);
  EXPECT_EQ(field_value(out, "http.fields_not_shown"), "9");
}

}  // namespace
}  // namespace duplex::http
