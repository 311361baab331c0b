// Public. The head of an HTTP/1.x message as `duplex capture` sees it in one TCP segment:
// the start line (a request's method, target and version, or a response's version, status
// code and reason) and the field lines up to the empty line, without heap allocation (the
// convention of base/dissect.h). Stateless: a segment that starts with neither a request line
// nor a status line is body data or the rest of a head, and is only named so.
//
// It reads what was sent rather than judging it as http_parser.h does for the server (bare
// LF line ends are read), with the same token rules (is_token_char). A head that goes on
// past the segment is `continues`; past the capture (the snaplen), truncated.
// All functions are safe to call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "duplex/base/dissect.h"

namespace duplex::http {

// A piece of the segment: its offset and length.
struct Slice {
  std::uint32_t at = 0;
  std::uint32_t length = 0;
  std::string_view in(std::span<const std::uint8_t> bytes) const noexcept {
    return {reinterpret_cast<const char*>(bytes.data()) + at, length};
  }
};

struct HeadField {
  Slice line;  // the whole field line, without its line end
  Slice name;
  Slice value;  // without the whitespace around it
};

struct HttpHead {
  static constexpr std::size_t kMaxFields = 32;
  enum class Kind : std::uint8_t { data, request, response };
  Kind kind = Kind::data;

  Slice start_line;          // without its line end
  Slice method, target;      // request
  Slice version;             // "HTTP/1.1"
  std::uint16_t status = 0;  // response
  Slice reason;              // response, may be empty

  std::array<HeadField, kMaxFields> fields{};
  std::uint8_t field_count = 0;   // kept in `fields`
  std::uint16_t field_lines = 0;  // seen, past kMaxFields too
  std::optional<std::uint64_t> content_length;

  // The bytes up to and with the empty line; 0 when the head does not end in the segment.
  std::uint32_t head_length = 0;
  bool continues = false;  // the head goes on past this segment
  dissect::Problem problem;

  bool is_message() const noexcept { return kind != Kind::data; }
  // The first field with this name (case-insensitive), or nullptr.
  const HeadField* find(std::span<const std::uint8_t> bytes, std::string_view name) const noexcept;
};

// `bytes` is the TCP payload as captured, `length` its length on the wire (0: all captured).
HttpHead decode_http_head(std::span<const std::uint8_t> bytes, std::uint32_t length = 0) noexcept;

// Whether `bytes` starts like an HTTP/1.x message: "HTTP/" or a method tcpdump knows and a
// space; for the chain, which names a TCP payload HTTP by port or by this.
bool looks_like_http(std::span<const std::uint8_t> bytes) noexcept;

// "HTTP" with http.request.method, http.request.uri, http.request.version or
// http.response.version, http.response.code, http.response.phrase; a http.request.line or
// http.response.line per field line ("Host: example.com", without the line end), and for the
// common fields their own keys as Wireshark has them (http.host, http.user_agent,
// http.content_type, http.content_length_header, http.server...).
void describe(const HttpHead& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As tcpdump -nn: "HTTP: GET /index.html HTTP/1.1", "HTTP: HTTP/1.1 200 OK", and "HTTP" for
// a segment of body data.
std::string summary(const HttpHead& h, std::span<const std::uint8_t> bytes);

}  // namespace duplex::http
