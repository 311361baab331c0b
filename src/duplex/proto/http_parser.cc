// The request head: line scanning (resumable) and the strict RFC 9112 checks.
#include "duplex/proto/http_parser.h"

#include <array>
#include <cstring>

namespace duplex::http {
namespace {

constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto kToken = make_token_table();

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// field-value characters: VCHAR, obs-text, SP and HTAB. Everything else is a control
// character (NUL, CR, LF, DEL...), which some peers treat as a line end: refuse.
bool valid_field_value(std::string_view v) noexcept {
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// Characters of a request-target: visible ASCII only (RFC 3986 plus what browsers send,
// such as '|' and '{'). Whitespace or control characters would split the line.
bool valid_target(std::string_view t) noexcept {
  for (char ch : t) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return !t.empty();
}

// uri-host [":" port]: reg-name, IPv4 or a bracketed IP literal. Refuse what could make two
// parsers disagree about the authority (whitespace, '/', '@', '\\', '?', '#').
bool valid_host(std::string_view h) noexcept {
  for (char ch : h) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    std::strchr("-._~%!$&'()*+,;=:[]", c) != nullptr;
    if (!ok || c == 0) return false;
  }
  return true;
}

// Calls f(token) for each element of a comma-separated list, skipping empty elements as
// RFC 9110 5.6.1 asks of recipients.
template <typename F>
void for_each_list_element(std::string_view v, F&& f) {
  while (!v.empty()) {
    const auto comma = v.find(',');
    const auto element = trim(v.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

}  // namespace

bool is_token_char(unsigned char c) noexcept { return kToken[c]; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

bool Request::header_has_token(std::string_view name, std::string_view token) const noexcept {
  bool found = false;
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    for_each_list_element(h.value, [&](std::string_view e) {
      // A parameter (";q=1") is not part of the token.
      const auto semi = e.find(';');
      if (iequals(trim(e.substr(0, semi)), token)) found = true;
    });
  }
  return found;
}

void RequestParser::reset() noexcept {
  scanned_ = line_start_ = start_ = lines_ = request_line_end_ = head_length_ = 0;
  failure_ = {};
}

RequestParser::Result RequestParser::fail(int status, const char* reason) noexcept {
  failure_ = {status, reason};
  return Result::kError;
}

RequestParser::Result RequestParser::parse_head(std::string_view data, Request& out) {
  // Find line ends from where the last call stopped. memchr is glibc's vectorised scan.
  while (scanned_ < data.size()) {
    const void* hit = std::memchr(data.data() + scanned_, '\n', data.size() - scanned_);
    if (hit == nullptr) {
      scanned_ = data.size();
      break;
    }
    const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(hit) - data.data());
    scanned_ = lf + 1;
    // The limits first, exactly as the incomplete-input checks below would have judged the
    // bytes before this LF: the verdict must not depend on how the input was split.
    if (lines_ == 0) {
      if (lf - line_start_ > limits_.max_request_line + 1)
        return fail(414, "request line too long");
    } else if (lf - request_line_end_ > limits_.max_header_bytes + 1) {
      return fail(431, "header fields too large");
    }
    if (lf == line_start_ || data[lf - 1] != '\r') return fail(400, "bare LF as a line end");
    const std::size_t length = lf - 1 - line_start_;  // without CRLF
    if (lines_ == 0) {
      if (length == 0) {
        // RFC 9112 2.2: ignore empty lines before the request line (a client's extra CRLF
        // after a body), but not endlessly.
        line_start_ = start_ = scanned_;
        if (start_ > 64) return fail(400, "too many empty lines before the request line");
        continue;
      }
      if (length > limits_.max_request_line) return fail(414, "request line too long");
      request_line_end_ = scanned_;
      ++lines_;
    } else if (length == 0) {
      head_length_ = scanned_;
      out = Request{};
      return parse_complete_head(data.substr(start_, head_length_ - start_), out);
    } else {
      if (++lines_ - 1 > limits_.max_headers) return fail(431, "too many header fields");
    }
    line_start_ = scanned_;
  }
  // Incomplete: refuse early what can no longer fit the limits.
  const std::size_t partial = data.size() - line_start_;
  if (lines_ == 0) {
    if (partial > limits_.max_request_line + 1) return fail(414, "request line too long");
  } else if (data.size() - request_line_end_ > limits_.max_header_bytes + 1) {
    // + 1: the CR of the empty line that ends the head may still arrive within the limit.
    return fail(431, "header fields too large");
  }
  return Result::kIncomplete;
}

RequestParser::Result RequestParser::parse_complete_head(std::string_view head, Request& out) {
  const std::size_t first_end = request_line_end_ - start_;
  if (head.size() - first_end > limits_.max_header_bytes + 2)
    return fail(431, "header fields too large");
  if (parse_request_line(head.substr(0, first_end - 2), out) == Result::kError)
    return Result::kError;
  out.headers.reserve(lines_ - 1);
  std::size_t pos = first_end;
  while (pos + 2 < head.size()) {
    const std::size_t end = head.find("\r\n", pos);
    if (parse_field_line(head.substr(pos, end - pos), out) == Result::kError) return Result::kError;
    pos = end + 2;
  }
  return check_framing(out);
}

RequestParser::Result RequestParser::parse_request_line(std::string_view line, Request& out) {
  // method SP request-target SP HTTP-version, exactly one space each (RFC 9112 3).
  std::size_t i = 0;
  while (i < line.size() && kToken[static_cast<unsigned char>(line[i])]) ++i;
  if (i == 0 || i >= line.size() || line[i] != ' ')
    return fail(400, "malformed method in the request line");
  out.method = line.substr(0, i);
  const auto sp = line.find(' ', i + 1);
  if (sp == std::string_view::npos) return fail(400, "request line without an HTTP version");
  out.target = line.substr(i + 1, sp - i - 1);
  if (!valid_target(out.target)) return fail(400, "invalid characters in the request target");
  const auto version = line.substr(sp + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
    return fail(400, "malformed HTTP version");
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
    return fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
  out.version_minor = version[7] - '0';
  out.keep_alive = out.version_minor == 1;

  std::string_view t = out.target;
  if (t.front() != '/') {
    if (t == "*" && out.method == "OPTIONS") {
      out.path = t;
      return Result::kComplete;
    }
    // absolute-form (RFC 9112 3.2.2): a server must accept it; the path is what follows
    // the authority.
    std::string_view rest;
    if (t.substr(0, 7) == "http://") {
      rest = t.substr(7);
    } else if (t.substr(0, 8) == "https://") {
      rest = t.substr(8);
    } else {
      return fail(400, "request target is not origin-form or absolute-form");
    }
    const auto slash = rest.find_first_of("/?");
    t = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    if (t.front() == '?') return fail(400, "absolute-form target without a path");
  }
  const auto q = t.find('?');
  out.path = t.substr(0, q);
  out.query = q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
  return Result::kComplete;
}

RequestParser::Result RequestParser::parse_field_line(std::string_view line, Request& out) {
  if (is_ows(line.front())) return fail(400, "obs-fold (a field line starting with whitespace)");
  std::size_t i = 0;
  while (i < line.size() && kToken[static_cast<unsigned char>(line[i])]) ++i;
  if (i < line.size() && is_ows(line[i])) return fail(400, "whitespace before the colon");
  if (i == 0 || i >= line.size() || line[i] != ':')
    return fail(400, "invalid character in a field name");
  const auto value = trim(line.substr(i + 1));
  if (!valid_field_value(value)) return fail(400, "control character in a field value");
  out.headers.push_back({line.substr(0, i), value});
  return Result::kComplete;
}

RequestParser::Result RequestParser::check_framing(Request& out) {
  int hosts = 0, lengths = 0, encodings = 0;
  bool chunked_last = false, chunked_seen = false, other_coding = false, empty_coding = false;
  for (const auto& h : out.headers) {
    if (iequals(h.name, "host")) {
      ++hosts;
      out.host = h.value;
    } else if (iequals(h.name, "content-length")) {
      // Digits only, one field, no list (see the header comment for why "1, 1" is refused).
      if (++lengths > 1) return fail(400, "more than one Content-Length");
      if (h.value.empty() || h.value.size() > 19) return fail(400, "malformed Content-Length");
      std::uint64_t n = 0;
      for (char c : h.value) {
        if (c < '0' || c > '9') return fail(400, "malformed Content-Length");
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      out.content_length = n;
    } else if (iequals(h.name, "transfer-encoding")) {
      ++encodings;
      bool any = false;
      for_each_list_element(h.value, [&](std::string_view coding) {
        any = true;
        const auto name = trim(coding.substr(0, coding.find(';')));
        if (chunked_last) chunked_seen = true;  // chunked applied twice, or not last
        chunked_last = iequals(name, "chunked");
        if (!chunked_last) other_coding = true;
        for (char c : name) {
          if (!kToken[static_cast<unsigned char>(c)]) empty_coding = true;
        }
        if (name.empty()) empty_coding = true;
      });
      if (!any) empty_coding = true;
    } else if (iequals(h.name, "expect")) {
      if (!iequals(h.value, "100-continue")) return fail(417, "only Expect: 100-continue is met");
      out.expect_continue = true;
    }
  }
  if (out.version_minor == 1 && hosts != 1)
    return fail(400, hosts == 0 ? "HTTP/1.1 request without Host" : "more than one Host");
  if (hosts > 1) return fail(400, "more than one Host");
  if (!valid_host(out.host)) return fail(400, "invalid characters in Host");

  if (encodings > 0) {
    if (out.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (lengths > 0) return fail(400, "both Transfer-Encoding and Content-Length");
    if (empty_coding) return fail(400, "malformed Transfer-Encoding");
    if (!chunked_last) return fail(400, "Transfer-Encoding does not end with chunked");
    if (chunked_seen) return fail(400, "chunked applied more than once");
    if (other_coding) return fail(501, "transfer codings other than chunked are not implemented");
    out.framing = BodyFraming::kChunked;
  } else if (lengths > 0) {
    if (out.content_length > limits_.max_body) return fail(413, "body larger than the limit");
    if (out.content_length > 0) out.framing = BodyFraming::kContentLength;
  }

  if (out.header_has_token("connection", "close")) out.keep_alive = false;
  if (out.version_minor == 0 && out.header_has_token("connection", "keep-alive"))
    out.keep_alive = true;
  out.upgrade = out.header_has_token("connection", "upgrade") && out.header("upgrade").has_value();
  return Result::kComplete;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 426:
      return "Upgrade Required";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

}  // namespace duplex::http
