// Internal to proto/. Byte ranges (RFC 9110 14): parsing a Range field and building a
// multipart/byteranges body.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/proto/http_response.h"

namespace duplex::http {

struct ByteRange {
  std::uint64_t first;
  std::uint64_t last;  // inclusive
};
using RangeSet = std::vector<ByteRange>;

enum class RangeResult {
  kOk,             // at least one satisfiable range, in `out`
  kUnsatisfiable,  // well-formed, but none overlaps the representation: 416
  kIgnore,         // malformed, not bytes, or too many ranges: serve the whole file
};

// More ranges than this are ignored (a 200 with the whole file): many small or overlapping
// ranges cost us far more than they cost the client.
constexpr std::size_t kMaxRanges = 16;

RangeResult parse_ranges(std::string_view header, std::uint64_t size, RangeSet& out);
// "bytes 0-99/1234"
std::string content_range(const ByteRange& r, std::uint64_t size);
// Fills `res` with a 206 multipart/byteranges body read from fd; false if it would be too
// large to build in memory (the caller then serves the whole file).
bool multipart_body(int fd, const RangeSet& ranges, std::uint64_t size, const std::string& type,
                    Response& res);

}  // namespace duplex::http
