#include "duplex/proto/http_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http_vectors.h"

namespace duplex::http {
namespace {

// Parses one whole request (head and body); returns 0 when accepted, else the status.
int refusal(std::string_view bytes, Limits limits = {}) {
  RequestParser parser(limits);
  Request req;
  const auto r = parser.parse_head(bytes, req);
  if (r == RequestParser::Result::kError) return parser.failure().status;
  if (r == RequestParser::Result::kIncomplete) return -1;
  auto rest = bytes.substr(parser.head_length());
  if (req.framing == BodyFraming::kChunked) {
    ChunkedDecoder decoder(limits);
    std::string body;
    std::vector<std::pair<std::string, std::string>> trailers;
    std::size_t used = 0;
    const auto c = decoder.decode(rest, &used, body, trailers);
    if (c == ChunkedDecoder::Result::kError) return decoder.failure().status;
    if (c == ChunkedDecoder::Result::kIncomplete) return -1;
  }
  return 0;
}

TEST(HttpParser, RefusesEverySmugglingAndLeniencyVector) {
  ASSERT_GE(std::size(test::kBadRequests), 40u);
  for (const auto& v : test::kBadRequests) {
    EXPECT_EQ(refusal(v.bytes), v.status) << v.name;
  }
}

TEST(HttpParser, ParsesASimpleGetIntoViewsOfTheInput) {
  const std::string in = "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nX-Y:  z z \r\n\r\n";
  RequestParser parser;
  Request req;
  ASSERT_EQ(parser.parse_head(in, req), RequestParser::Result::kComplete);
  EXPECT_EQ(parser.head_length(), in.size());
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/a/b");
  EXPECT_EQ(req.query, "x=1&y=2");
  EXPECT_EQ(req.host, "example.com");
  EXPECT_EQ(req.header("x-y"), "z z");
  EXPECT_TRUE(req.keep_alive);
  EXPECT_EQ(req.framing, BodyFraming::kNone);
  EXPECT_GE(req.method.data(), in.data());
  EXPECT_LT(req.method.data(), in.data() + in.size());
}

TEST(HttpParser, ResumesAHeadFedOneByteAtATime) {
  const std::string in = "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  RequestParser parser;
  Request req;
  std::size_t n = 1;
  for (; n <= in.size(); ++n) {
    const auto r = parser.parse_head(std::string_view(in).substr(0, n), req);
    if (r != RequestParser::Result::kIncomplete) {
      ASSERT_EQ(r, RequestParser::Result::kComplete);
      break;
    }
  }
  EXPECT_EQ(n, in.size() - 5);
  EXPECT_EQ(req.framing, BodyFraming::kContentLength);
  EXPECT_EQ(req.content_length, 5u);
}

TEST(HttpParser, SkipsEmptyLinesBeforeTheRequestLine) {
  RequestParser parser;
  Request req;
  ASSERT_EQ(parser.parse_head("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", req),
            RequestParser::Result::kComplete);
  EXPECT_EQ(req.method, "GET");
}

TEST(HttpParser, ReadsThePathOfAnAbsoluteFormTarget) {
  RequestParser parser;
  Request req;
  ASSERT_EQ(parser.parse_head("GET http://h:80/p?q HTTP/1.1\r\nHost: h:80\r\n\r\n", req),
            RequestParser::Result::kComplete);
  EXPECT_EQ(req.path, "/p");
  EXPECT_EQ(req.query, "q");
}

TEST(HttpParser, Http10ClosesUnlessKeepAliveAndAllowsNoHost) {
  RequestParser parser;
  Request req;
  ASSERT_EQ(parser.parse_head("GET / HTTP/1.0\r\n\r\n", req), RequestParser::Result::kComplete);
  EXPECT_FALSE(req.keep_alive);
  parser.reset();
  ASSERT_EQ(parser.parse_head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", req),
            RequestParser::Result::kComplete);
  EXPECT_TRUE(req.keep_alive);
}

TEST(HttpParser, ConnectionCloseEndsKeepAlive) {
  RequestParser parser;
  Request req;
  ASSERT_EQ(parser.parse_head("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n", req),
            RequestParser::Result::kComplete);
  EXPECT_FALSE(req.keep_alive);
}

TEST(HttpParser, SeesExpectContinueAndUpgrade) {
  RequestParser parser;
  Request req;
  ASSERT_EQ(parser.parse_head("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
                              "Upgrade: websocket\r\nExpect: 100-Continue\r\n\r\n",
                              req),
            RequestParser::Result::kComplete);
  EXPECT_TRUE(req.upgrade);
  EXPECT_TRUE(req.expect_continue);
}

TEST(HttpParser, LongRequestLineIs414EvenBeforeItEnds) {
  Limits limits;
  limits.max_request_line = 64;
  const std::string in = "GET /" + std::string(100, 'a');
  RequestParser parser(limits);
  Request req;
  ASSERT_EQ(parser.parse_head(in, req), RequestParser::Result::kError);
  EXPECT_EQ(parser.failure().status, 414);
}

TEST(HttpParser, TooManyHeaderFieldsIs431) {
  Limits limits;
  limits.max_headers = 3;
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 5; ++i) in += "X" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(refusal(in + "\r\n", limits), 431);
}

TEST(HttpParser, OversizedHeaderFieldsAre431WhileStillArriving) {
  Limits limits;
  limits.max_header_bytes = 100;
  const std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(200, 'v');
  EXPECT_EQ(refusal(in, limits), 431);
}

// The verdict on a head must not depend on how TCP split it: fed whole, or first a prefix
// and then everything, the parser gives the same status (found by the libFuzzer target).
int verdict_split_at(std::string_view in, std::size_t split, const Limits& limits) {
  RequestParser parser(limits);
  Request req;
  auto r = parser.parse_head(in.substr(0, split), req);
  if (r == RequestParser::Result::kIncomplete) r = parser.parse_head(in, req);
  if (r == RequestParser::Result::kIncomplete) return -1;
  return r == RequestParser::Result::kError ? parser.failure().status : 0;
}

TEST(HttpParser, TheVerdictDoesNotDependOnWhereTheInputWasSplit) {
  Limits limits;
  limits.max_request_line = 32;
  limits.max_header_bytes = 40;
  const std::vector<std::string> heads = {
      "GET /" + std::string(40, 'a') + "\n",           // long line, bare LF
      "GET /" + std::string(18, 'a') + " HTTP/1.1\n",  // at the limit, bare LF
      "GET /" + std::string(19, 'a') + " HTTP/1.1\n",
      "GET /" + std::string(20, 'a') + " HTTP/1.1\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(40, 'v') + "\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(26, 'v') + "\r\n\r\n",  // 42 bytes: fits
      "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(27, 'v') + "\r\n\r\n",  // 43: 431
  };
  for (const auto& in : heads) {
    const int whole = verdict_split_at(in, in.size(), limits);
    EXPECT_NE(whole, -1) << in;
    for (std::size_t split = 0; split <= in.size(); ++split)
      EXPECT_EQ(verdict_split_at(in, split, limits), whole) << in << " split at " << split;
  }
}

TEST(HttpParser, ContentLengthAboveTheLimitIs413) {
  Limits limits;
  limits.max_body = 10;
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits), 413);
}

TEST(ChunkedDecoder, DecodesChunksExtensionsAndTrailersSplitAnywhere) {
  const std::string body =
      "4;name=\"v\"\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
      "Checksum: abc \r\nX-T: 1\r\n\r\n";
  for (std::size_t split = 0; split <= body.size(); ++split) {
    ChunkedDecoder d;
    std::string out;
    std::vector<std::pair<std::string, std::string>> trailers;
    std::size_t used = 0;
    auto r = d.decode(std::string_view(body).substr(0, split), &used, out, trailers);
    ASSERT_NE(r, ChunkedDecoder::Result::kError) << split;
    if (r == ChunkedDecoder::Result::kIncomplete) {
      ASSERT_EQ(used, split);
      r = d.decode(std::string_view(body).substr(split), &used, out, trailers);
    }
    ASSERT_EQ(r, ChunkedDecoder::Result::kComplete) << split;
    EXPECT_EQ(out, "Wikipedia in\r\n\r\nchunks.");
    ASSERT_EQ(trailers.size(), 2u);
    EXPECT_EQ(trailers[0].first, "Checksum");
    EXPECT_EQ(trailers[0].second, "abc");
  }
}

TEST(ChunkedDecoder, StopsAtTheEndOfTheBodyLeavingTheNextRequest) {
  const std::string in = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
  ChunkedDecoder d;
  std::string out;
  std::vector<std::pair<std::string, std::string>> trailers;
  std::size_t used = 0;
  ASSERT_EQ(d.decode(in, &used, out, trailers), ChunkedDecoder::Result::kComplete);
  EXPECT_EQ(in.substr(used), "GET / HTTP/1.1\r\n");
}

TEST(ChunkedDecoder, BodyAboveTheLimitIs413) {
  Limits limits;
  limits.max_body = 8;
  ChunkedDecoder d(limits);
  std::string out;
  std::vector<std::pair<std::string, std::string>> trailers;
  std::size_t used = 0;
  ASSERT_EQ(d.decode("5\r\nabcde\r\n5\r\nabcde\r\n", &used, out, trailers),
            ChunkedDecoder::Result::kError);
  EXPECT_EQ(d.failure().status, 413);
}

}  // namespace
}  // namespace duplex::http
