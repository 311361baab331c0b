// Public. A strict, incremental, zero-copy HTTP/1.1 request parser (RFC 9112).
//
// The parser reads the connection's input bytes in place: every string_view in a Request
// points into the bytes handed to parse_head(), so they stay valid only until that buffer
// changes. Partial input is resumed: a call remembers how far it scanned for the end of the
// head, so bytes arriving one at a time cost O(n) overall, and the head is tokenised once,
// when its empty line has arrived.
//
// Strictness is the point: anything a front end might read differently from us (request
// smuggling) is refused with a 4xx status, and the server closes the connection after
// answering it. The choices, each documented where it is made in http_parser.cc:
//   - Content-Length: digits only; a second Content-Length field, or a list such as "1, 1",
//     is refused even when the values are identical (RFC 9110 8.6 allows merging identical
//     values; refusing is simpler and no honest client sends them).
//   - Transfer-Encoding: the final coding must be chunked (else 400); chunked only once;
//     other codings before it are understood but not implemented (501). Not with
//     Content-Length, and not in HTTP/1.0 (400).
//   - Bare LF, bare CR, obs-fold, whitespace before a colon, control characters in values,
//     non-token characters in methods and field names: 400.
//   - HTTP/1.1 needs exactly one Host: 400 otherwise.
//   - Limits: request line (414), header bytes and count (431), body (413).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duplex::http {

struct Limits {
  std::size_t max_request_line = 8 * 1024;   // longer: 414 URI Too Long
  std::size_t max_header_bytes = 32 * 1024;  // field lines together, longer: 431
  std::size_t max_headers = 100;             // more field lines: 431
  std::uint64_t max_body = 8 * 1024 * 1024;  // larger: 413 Content Too Large
};

struct Header {
  std::string_view name;   // as sent; compare with iequals()
  std::string_view value;  // without leading and trailing whitespace
};

enum class BodyFraming : std::uint8_t { kNone, kContentLength, kChunked };

struct Request {
  std::string_view method;  // case-sensitive token, e.g. "GET"
  std::string_view target;  // as sent: "/a%20b?x=1"
  std::string_view path;    // target up to '?', still percent-encoded
  std::string_view query;   // after '?', without it
  int version_minor = 1;    // HTTP/1.<minor>: 0 or 1
  std::vector<Header> headers;
  std::string_view host;
  BodyFraming framing = BodyFraming::kNone;
  std::uint64_t content_length = 0;  // with kContentLength
  bool keep_alive = true;            // from the version and Connection
  bool expect_continue = false;      // Expect: 100-continue
  bool upgrade = false;              // Connection: upgrade with an Upgrade field

  // The request body once read (the server fills it in): a view into the input for
  // Content-Length, into a decoded copy for chunked bodies.
  std::string_view body;
  // Trailer fields of a chunked body.
  std::vector<std::pair<std::string, std::string>> trailers;

  // The first field with this name (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  // Whether a comma-separated field (Connection, Upgrade...) lists `token`, case-insensitive.
  bool header_has_token(std::string_view name, std::string_view token) const noexcept;
  bool is_head() const noexcept { return method == "HEAD"; }
};

// Why a request was refused: the status to answer with and a short reason for logs and the
// response body. The connection is always closed afterwards.
struct ParseFailure {
  int status = 400;
  const char* reason = "";
};

class RequestParser {
 public:
  enum class Result { kIncomplete, kComplete, kError };

  explicit RequestParser(Limits limits = {}) : limits_(limits) {}

  // `data` starts at the request (or at the CRLFs a client may send between requests) and
  // grows between calls that return kIncomplete. On kComplete, `out` holds the head and
  // head_length() is how many bytes of `data` it took; the body (if any) follows.
  Result parse_head(std::string_view data, Request& out);
  std::size_t head_length() const noexcept { return head_length_; }
  const ParseFailure& failure() const noexcept { return failure_; }
  const Limits& limits() const noexcept { return limits_; }
  // Ready for the next request on the connection.
  void reset() noexcept;

 private:
  Result fail(int status, const char* reason) noexcept;
  Result parse_complete_head(std::string_view head, Request& out);
  Result parse_request_line(std::string_view line, Request& out);
  Result parse_field_line(std::string_view line, Request& out);
  Result check_framing(Request& out);

  Limits limits_;
  std::size_t scanned_ = 0;     // bytes of data already searched for line ends
  std::size_t line_start_ = 0;  // where the current line starts
  std::size_t start_ = 0;       // where the request line starts (after leading CRLFs)
  std::size_t lines_ = 0;       // complete lines of this head, the request line included
  std::size_t request_line_end_ = 0;
  std::size_t head_length_ = 0;
  ParseFailure failure_;
};

// Decodes a chunked body (RFC 9112 7.1) incrementally, trailers included.
class ChunkedDecoder {
 public:
  enum class Result { kIncomplete, kComplete, kError };

  explicit ChunkedDecoder(Limits limits = {}) : limits_(limits) {}

  // Reads from `in`, appending the chunk data to `body` and trailer fields to `trailers`;
  // *consumed is how many bytes of `in` were used (all of them unless kComplete or kError).
  Result decode(std::string_view in, std::size_t* consumed, std::string& body,
                std::vector<std::pair<std::string, std::string>>& trailers);
  const ParseFailure& failure() const noexcept { return failure_; }
  void reset() noexcept;

 private:
  enum class State : std::uint8_t {
    kSize,
    kExtension,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailerLine,
    kDone
  };
  Result fail(int status, const char* reason) noexcept;
  Result finish_trailer_line(std::vector<std::pair<std::string, std::string>>& trailers);

  Limits limits_;
  State state_ = State::kSize;
  std::uint64_t chunk_size_ = 0;
  int size_digits_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t total_ = 0;
  std::size_t extension_bytes_ = 0;
  std::string line_;  // a trailer line being collected
  std::size_t trailer_bytes_ = 0;
  ParseFailure failure_;
};

// ASCII case-insensitive equality, for field names and tokens.
bool iequals(std::string_view a, std::string_view b) noexcept;
// RFC 9110 5.6.2 token characters.
bool is_token_char(unsigned char c) noexcept;
// The reason phrase of a status code ("Not Found"), "" for unknown codes.
std::string_view reason_phrase(int status) noexcept;

}  // namespace duplex::http
