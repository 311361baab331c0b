// Request smuggling and leniency vectors: each must be refused with `status` (and the
// server must close the connection after answering). Shared by the parser and server tests.
#pragma once

#include <string_view>

namespace duplex::test {

struct BadRequest {
  std::string_view name;
  std::string_view bytes;
  int status;
};

// A literal with a NUL inside: its length comes from the array, not from strlen.
inline constexpr char kNulInValue[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";

// clang-format off
inline constexpr BadRequest kBadRequests[] = {
  {"two Content-Length values differ", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
  {"two identical Content-Length fields", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", 400},
  {"Content-Length list of identical values", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\na", 400},
  {"Content-Length list of different values", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\nab", 400},
  {"Content-Length with a plus sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\na", 400},
  {"Content-Length negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
  {"Content-Length in hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x1\r\n\r\na", 400},
  {"Content-Length empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400},
  {"Content-Length overflowing 64 bits", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
  {"Content-Length with inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n", 400},
  {"Transfer-Encoding and Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
  {"Transfer-Encoding not ending in chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
  {"Transfer-Encoding identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400},
  {"Transfer-Encoding misspelt chunk", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunk\r\n\r\n", 400},
  {"Transfer-Encoding chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
  {"Transfer-Encoding split over fields, gzip last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
  {"Transfer-Encoding empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400},
  {"Transfer-Encoding with a vertical tab", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0b" "chunked\r\n\r\n0\r\n\r\n", 400},
  {"Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
  {"Transfer-Encoding quoted chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400},
  {"whitespace before the colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
  {"tab before the colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400},
  {"obs-fold continuation line", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400},
  {"obs-fold hiding Transfer-Encoding", "POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n\tTransfer-Encoding: chunked\r\n\r\n", 400},
  {"bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
  {"bare LF ending a field line", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
  {"bare LF ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
  {"bare CR inside a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400},
  {"NUL inside a field value", std::string_view(kNulInValue, sizeof kNulInValue - 1), 400},
  {"DEL inside a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f" "b\r\n\r\n", 400},
  {"missing Host in HTTP/1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400},
  {"duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
  {"Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
  {"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
  {"invalid token character in the method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  {"empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  {"two spaces after the method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  {"invalid character in a field name", "GET / HTTP/1.1\r\nHost: a\r\nX@Y: z\r\n\r\n", 400},
  {"empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n", 400},
  {"field line without a colon", "GET / HTTP/1.1\r\nHost: a\r\nXYZ\r\n\r\n", 400},
  {"lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
  {"version with extra digits", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
  {"version HTTP/2.0 on a 1.1 connection", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
  {"control character in the target", "GET /a\x01" "b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  {"target in neither origin nor absolute form", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  {"chunk size not hexadecimal", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nz\r\nabc\r\n0\r\n\r\n", 400},
  {"chunk size with 0x prefix", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", 400},
  {"chunk size overflowing 64 bits", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\na\r\n0\r\n\r\n", 400},
  {"chunk size negative", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\na\r\n0\r\n\r\n", 400},
  {"chunk size after whitespace", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n", 400},
  {"chunk size line ending in bare LF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 400},
  {"chunk data without CRLF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", 400},
  {"chunk data ending in bare LF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", 400},
  {"empty chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n", 400},
  {"control character in a chunk extension", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a\x01\r\nabc\r\n0\r\n\r\n", 400},
  {"bare LF in a chunk extension", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a\nb\r\nabc\r\n0\r\n\r\n", 400},
  {"trailer with obs-fold", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n", 400},
  {"trailer without a colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nXYZ\r\n\r\n", 400},
  {"Expect other than 100-continue", "GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417},
  {"Transfer-Encoding gzip then chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
};
// clang-format on

}  // namespace duplex::test
