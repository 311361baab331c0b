#include "duplex/proto/http_head.h"

#include <algorithm>
#include <array>

#include "duplex/base/captured_fields.h"
#include "duplex/base/strings.h"
#include "duplex/proto/http_parser.h"

namespace duplex::http {
namespace {

using dissect::decimal;
using dissect::Problem;

// The methods tcpdump's HTTP printer knows (print-http.c): a segment starting with one of
// these and a space is a request.
constexpr std::array<std::string_view, 38> kMethods{"GET",
                                                    "PUT",
                                                    "COPY",
                                                    "HEAD",
                                                    "LOCK",
                                                    "MOVE",
                                                    "POLL",
                                                    "POST",
                                                    "BCOPY",
                                                    "BMOVE",
                                                    "MKCOL",
                                                    "TRACE",
                                                    "LABEL",
                                                    "MERGE",
                                                    "DELETE",
                                                    "SEARCH",
                                                    "UNLOCK",
                                                    "REPORT",
                                                    "UPDATE",
                                                    "NOTIFY",
                                                    "BDELETE",
                                                    "CONNECT",
                                                    "OPTIONS",
                                                    "CHECKIN",
                                                    "PROPFIND",
                                                    "CHECKOUT",
                                                    "CCM_POST",
                                                    "SUBSCRIBE",
                                                    "PROPPATCH",
                                                    "BPROPFIND",
                                                    "BPROPPATCH",
                                                    "UNCHECKOUT",
                                                    "MKACTIVITY",
                                                    "MKWORKSPACE",
                                                    "UNSUBSCRIBE",
                                                    "RPC_CONNECT",
                                                    "VERSION-CONTROL",
                                                    "BASELINE-CONTROL"};

// tcpdump compares them without regard to case.
bool known_method(std::string_view m) noexcept {
  return std::any_of(kMethods.begin(), kMethods.end(),
                     [m](std::string_view k) noexcept { return iequals(k, m); });
}

// The field names Wireshark gives keys of their own.
struct KnownField {
  std::string_view name;
  const char* key;
};
constexpr std::array<KnownField, 28> kKnownFields{{
    {"Host", "http.host"},
    {"User-Agent", "http.user_agent"},
    {"Accept", "http.accept"},
    {"Accept-Encoding", "http.accept_encoding"},
    {"Accept-Language", "http.accept_language"},
    {"Authorization", "http.authorization"},
    {"Cache-Control", "http.cache_control"},
    {"Connection", "http.connection"},
    {"Content-Encoding", "http.content_encoding"},
    {"Content-Length", "http.content_length_header"},
    {"Content-Type", "http.content_type"},
    {"Cookie", "http.cookie"},
    {"Date", "http.date"},
    {"Last-Modified", "http.last_modified"},
    {"Location", "http.location"},
    {"Proxy-Authenticate", "http.proxy_authenticate"},
    {"Proxy-Authorization", "http.proxy_authorization"},
    {"Referer", "http.referer"},
    {"Sec-WebSocket-Accept", "http.sec_websocket_accept"},
    {"Sec-WebSocket-Extensions", "http.sec_websocket_extensions"},
    {"Sec-WebSocket-Key", "http.sec_websocket_key"},
    {"Sec-WebSocket-Protocol", "http.sec_websocket_protocol"},
    {"Sec-WebSocket-Version", "http.sec_websocket_version"},
    {"Server", "http.server"},
    {"Set-Cookie", "http.set_cookie"},
    {"Transfer-Encoding", "http.transfer_encoding"},
    {"Upgrade", "http.upgrade"},
    {"WWW-Authenticate", "http.www_authenticate"},
}};

std::string_view text_of(std::span<const std::uint8_t> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// "HTTP/" DIGIT "." DIGIT.
bool is_version(std::string_view s) noexcept {
  return s.size() == 8 && s.substr(0, 5) == "HTTP/" && s[5] >= '0' && s[5] <= '9' && s[6] == '.' &&
         s[7] >= '0' && s[7] <= '9';
}

// Whether a cut first line may still be a start line: "HTT" or a method being written.
bool could_start_a_line(std::string_view text) noexcept {
  if (std::string_view("HTTP/").substr(0, text.size()) == text.substr(0, 5)) return true;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return is_token_char(static_cast<unsigned char>(c)); });
}

std::uint32_t u32(std::size_t n) noexcept { return static_cast<std::uint32_t>(n); }

// The line starting at `at`: its length without the line end, and where the next starts;
// npos when it does not end in `text`.
struct Line {
  std::size_t length = std::string_view::npos;
  std::size_t next = std::string_view::npos;
};
Line line_at(std::string_view text, std::size_t at) noexcept {
  const std::size_t lf = text.find('\n', at);
  if (lf == std::string_view::npos) return {};
  const std::size_t end = lf > at && text[lf - 1] == '\r' ? lf - 1 : lf;
  return {end - at, lf + 1};
}

// Reads the start line (`line` may be cut: then only what it holds).
void read_start_line(HttpHead& h, std::string_view text, std::size_t length, bool whole) {
  const std::string_view line = text.substr(0, length);
  h.start_line = {0, u32(length)};
  if (line.substr(0, 5) == "HTTP/") {
    h.kind = HttpHead::Kind::response;
    const std::size_t sp = line.find(' ');
    h.version = {0, u32(std::min(sp, line.size()))};
    if (!whole) return;
    if (!is_version(line.substr(0, sp))) {
      h.problem = {Problem::Kind::malformed, "the version is not HTTP/<digit>.<digit>", 0};
      return;
    }
    const std::string_view code = sp == std::string_view::npos ? "" : line.substr(sp + 1, 3);
    if (code.size() != 3 ||
        !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (line.size() > sp + 4 && line[sp + 4] != ' ')) {
      h.problem = {Problem::Kind::malformed, "the status code is not 3 digits",
                   u32(std::min(sp + 1, line.size()))};
      return;
    }
    h.status =
        static_cast<std::uint16_t>((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
    h.reason = line.size() > sp + 5 ? Slice{u32(sp + 5), u32(line.size() - sp - 5)}
                                    : Slice{u32(line.size()), 0};
    return;
  }
  std::size_t m = 0;
  while (m < line.size() && is_token_char(static_cast<unsigned char>(line[m]))) ++m;
  if (m == 0 || m == line.size() || line[m] != ' ') return;  // not a request: data
  const std::string_view method = line.substr(0, m);
  const std::size_t last_sp = line.rfind(' ');
  const bool ends_with_version = last_sp > m && is_version(line.substr(last_sp + 1));
  if (!known_method(method) && !(whole && ends_with_version)) return;
  h.kind = HttpHead::Kind::request;
  h.method = {0, u32(m)};
  if (!whole) return;
  if (!ends_with_version) {
    h.problem = {Problem::Kind::malformed, "the request line does not end with HTTP/<d>.<d>",
                 u32(line.size())};
    return;
  }
  h.target = {u32(m + 1), u32(last_sp - m - 1)};
  h.version = {u32(last_sp + 1), 8};
  if (h.target.length == 0 ||
      h.target.in({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}).find(' ') !=
          std::string_view::npos)
    h.problem = {Problem::Kind::malformed, "the request target is empty or has a space",
                 u32(m + 1)};
}

// Reads one field line; false with `problem` set when it is not one.
bool read_field(HttpHead& h, std::string_view text, std::size_t at, std::size_t length) {
  const std::string_view line = text.substr(at, length);
  if (line[0] == ' ' || line[0] == '\t') {
    h.problem = {Problem::Kind::malformed,
                 "a field line starts with whitespace (obsolete line folding)", u32(at)};
    return false;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    h.problem = {Problem::Kind::malformed, "a field line has no name and colon", u32(at)};
    return false;
  }
  for (std::size_t i = 0; i < colon; ++i) {
    if (!is_token_char(static_cast<unsigned char>(line[i]))) {
      h.problem = {Problem::Kind::malformed,
                   "a field name has a character that is not a token character", u32(at + i)};
      return false;
    }
  }
  const std::string_view raw = line.substr(colon + 1);
  const std::string_view value = trim(raw);
  const std::size_t value_at = at + colon + 1 + (value.empty() ? 0 : raw.find(value));
  ++h.field_lines;
  if (h.field_count < HttpHead::kMaxFields)
    h.fields[h.field_count++] = {
        {u32(at), u32(length)}, {u32(at), u32(colon)}, {u32(value_at), u32(value.size())}};
  if (iequals(line.substr(0, colon), "content-length") && !h.content_length)
    h.content_length = parse_uint(value, UINT64_MAX);
  return true;
}

}  // namespace

const HeadField* HttpHead::find(std::span<const std::uint8_t> bytes,
                                std::string_view name) const noexcept {
  for (std::uint8_t i = 0; i < field_count; ++i)
    if (iequals(fields[i].name.in(bytes), name)) return &fields[i];
  return nullptr;
}

bool looks_like_http(std::span<const std::uint8_t> bytes) noexcept {
  const std::string_view text = text_of(bytes);
  if (text.substr(0, 5) == "HTTP/") return true;
  const std::size_t sp = text.substr(0, 20).find(' ');
  return sp != std::string_view::npos && known_method(text.substr(0, sp));
}

HttpHead decode_http_head(std::span<const std::uint8_t> bytes, std::uint32_t length) noexcept {
  HttpHead h;
  const auto captured = u32(bytes.size());
  if (length == 0) length = captured;
  const bool cut_by_capture = captured < length;
  const std::string_view text = text_of(bytes);
  const Line first = line_at(text, 0);
  const bool whole = first.next != std::string_view::npos;
  read_start_line(h, text, whole ? first.length : text.size(), whole);
  if (h.kind == HttpHead::Kind::data && cut_by_capture && !whole && could_start_a_line(text))
    h.problem = {Problem::Kind::truncated, "the capture cut the first line", captured};
  if (h.kind == HttpHead::Kind::data || h.problem) return h;
  const auto cut = [&](std::size_t at) noexcept {
    h.continues = !cut_by_capture;
    if (cut_by_capture)
      h.problem = {Problem::Kind::truncated, "the head was cut by the capture", u32(at)};
  };
  if (!whole) {
    cut(captured);
    return h;
  }
  for (std::size_t at = first.next;;) {
    const Line line = line_at(text, at);
    if (line.next == std::string_view::npos) {
      cut(at);
      return h;
    }
    if (line.length == 0) {
      h.head_length = u32(line.next);
      return h;
    }
    if (!read_field(h, text, at, line.length)) return h;
    at = line.next;
  }
}

void describe(const HttpHead& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = "HTTP";
  out.layer = dissect::Layer::application;
  out.offset = offset;
  out.length = u32(bytes.size());
  out.problem = dissect::to_string(h.problem);
  dissect::CapturedFields field(out, offset, bytes.size());
  const auto text = [&](const Slice& s) { return std::string(s.in(bytes)); };
  if (h.kind == HttpHead::Kind::data) {
    field("http.data", "Data", decimal(bytes.size()) + " bytes", 0, u32(bytes.size()),
          "body data, or the rest of a head");
    return;
  }
  const bool request = h.kind == HttpHead::Kind::request;
  if (request) {
    field("http.request.method", "Request Method", text(h.method), h.method.at, h.method.length);
    if (h.target.length != 0)
      field("http.request.uri", "Request URI", text(h.target), h.target.at, h.target.length);
    if (h.version.at != 0)
      field("http.request.version", "Request Version", text(h.version), h.version.at, 8);
  } else {
    field("http.response.version", "Response Version", text(h.version), 0, h.version.length);
    if (h.status != 0) {
      field("http.response.code", "Status Code", decimal(h.status), h.version.length + 1, 3,
            std::string(reason_phrase(h.status)));
      field("http.response.phrase", "Response Phrase", text(h.reason), h.reason.at,
            h.reason.length);
    }
  }
  const char* line_key = request ? "http.request.line" : "http.response.line";
  for (std::uint8_t i = 0; i < h.field_count; ++i) {
    const HeadField& f = h.fields[i];
    field(line_key, request ? "Request line" : "Response line", text(f.line), f.line.at,
          f.line.length);
    const std::string_view name = f.name.in(bytes);
    for (const auto& known : kKnownFields)
      if (iequals(name, known.name))
        field(known.key, std::string(known.name), text(f.value), f.value.at, f.value.length);
  }
  if (h.field_lines > h.field_count)
    field("http.fields_not_shown", "Field lines not shown", decimal(h.field_lines - h.field_count),
          0, 0);
  if (h.head_length != 0 && h.head_length < bytes.size())
    field("http.body", "Body", decimal(bytes.size() - h.head_length) + " bytes", h.head_length,
          u32(bytes.size() - h.head_length));
  if (h.continues)
    field("http.head_continues", "Head", "continues in a later segment", u32(bytes.size()), 0);
}

std::string summary(const HttpHead& h, std::span<const std::uint8_t> bytes) {
  // tcpdump prints the first line only after "HTTP/" or a method it knows.
  if (h.kind == HttpHead::Kind::data ||
      (h.kind == HttpHead::Kind::request && !known_method(h.method.in(bytes))))
    return "HTTP";
  return "HTTP: " + std::string(h.start_line.in(bytes));
}

}  // namespace duplex::http
