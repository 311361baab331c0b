// libFuzzer target for the HTTP/1.1 request parser and chunked decoder. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target http_parser_fuzz
//   build/fuzz/tests/http_parser_fuzz -max_total_time=20 tests/fuzz/corpus/http_parser
// Besides "no crash, no sanitizer report", it checks that the parser's answer does not
// depend on how the bytes were split: whole, and then fed in two pieces at a point the
// input chooses, the outcome (status, head length, body) must be the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "duplex/proto/http_parser.h"

namespace {

using duplex::http::BodyFraming;
using duplex::http::ChunkedDecoder;
using duplex::http::Request;
using duplex::http::RequestParser;

struct Outcome {
  int status = 0;  // 0 accepted, -1 incomplete, else the refusal
  std::size_t head = 0;
  std::string body;
  bool operator==(const Outcome&) const = default;
};

Outcome run(std::string_view in, std::size_t split) {
  duplex::http::Limits limits;
  limits.max_body = 1 << 16;
  limits.max_header_bytes = 4096;
  limits.max_request_line = 1024;
  RequestParser parser(limits);
  Request req;
  Outcome o;
  auto r = parser.parse_head(in.substr(0, split), req);
  if (r == RequestParser::Result::kIncomplete) r = parser.parse_head(in, req);
  if (r == RequestParser::Result::kError) {
    o.status = parser.failure().status;
    if (o.status < 400 || o.status > 599) std::abort();
    return o;
  }
  if (r == RequestParser::Result::kIncomplete) return Outcome{-1, 0, {}};
  o.head = parser.head_length();
  if (o.head > in.size()) std::abort();
  // Every view lies inside the input.
  for (const auto& h : req.headers) {
    if (h.name.data() < in.data() || h.value.data() + h.value.size() > in.data() + in.size())
      std::abort();
  }
  const auto rest = in.substr(o.head);
  if (req.framing == BodyFraming::kChunked) {
    ChunkedDecoder d(limits);
    std::vector<std::pair<std::string, std::string>> trailers;
    std::size_t used = 0, used2 = 0;
    const std::size_t cut = split % (rest.size() + 1);
    auto c = d.decode(rest.substr(0, cut), &used, o.body, trailers);
    if (c == ChunkedDecoder::Result::kIncomplete) {
      c = d.decode(rest.substr(cut), &used2, o.body, trailers);
      used += used2;
    }
    if (used > rest.size()) std::abort();
    if (c == ChunkedDecoder::Result::kError) o.status = d.failure().status;
    if (c == ChunkedDecoder::Result::kIncomplete) o.status = -1;
  } else if (req.framing == BodyFraming::kContentLength) {
    o.body.assign(rest.substr(0, static_cast<std::size_t>(req.content_length)));
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const Outcome whole = run(in, in.size());
  const std::size_t split = size == 0 ? 0 : (data[0] * 131u + size / 2) % (size + 1);
  const Outcome pieces = run(in, split);
  if (!(whole == pieces)) std::abort();
  return 0;
}
