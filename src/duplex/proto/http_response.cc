#include "duplex/proto/http_response.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "duplex/proto/http_parser.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::http {
namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void append_hex(std::string& out, std::uint64_t n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n, 16);
  out.append(buf, r.ptr);
}

}  // namespace

struct DeferredResponse::State {
  State(EventLoop* l, Sender s) : loop(l), send(std::move(s)) {}
  ~State() {
    if (done.exchange(true)) return;
    Response res;
    res.text(500, "internal error: the request was dropped without an answer\n");
    hand_over(std::move(res));
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  void hand_over(Response res) {
    loop->queue_in_loop(
        [send = std::move(send), res = std::move(res)]() mutable { send(std::move(res)); });
  }

  EventLoop* loop;
  Sender send;
  std::atomic<bool> done{false};
};

DeferredResponse::DeferredResponse(EventLoop* loop, Sender send)
    : state_(std::make_shared<State>(loop, std::move(send))) {}

void DeferredResponse::complete(Response response) const {
  if (!state_ || state_->done.exchange(true)) return;
  state_->hand_over(std::move(response));
}

DeferredResponse Response::defer() {
  if (!deferrer)
    throw std::logic_error("Response::defer(): whoever called this handler cannot answer later");
  deferred = true;
  return deferrer();
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

Response& Response::text(int code, std::string content, std::string_view type) {
  status = code;
  body = std::move(content);
  set("Content-Type", std::string(type));
  return *this;
}

Response& Response::json(int code, std::string json_text) {
  return text(code, std::move(json_text), "application/json");
}

std::uint64_t Response::content_length() const noexcept {
  if (file) return file_length;
  return body.size();
}

void serialize(const Response& r, bool head_only, bool keep_alive, std::string_view date,
               std::string_view server, std::string& out) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(r.status));
  out.push_back(' ');
  out.append(reason_phrase(r.status));
  out.append("\r\nDate: ");
  out.append(date);
  out.append("\r\nServer: ");
  out.append(server);
  out.append("\r\n");
  // RFC 9110 8.6: no Content-Length in 1xx and 204; a 304 describes the representation, so
  // it carries none of its own here.
  const bool no_content = r.status < 200 || r.status == 204 || r.status == 304;
  if (!no_content) {
    if (r.chunked) {
      out.append("Transfer-Encoding: chunked\r\n");
    } else {
      out.append("Content-Length: ");
      append_number(out, r.content_length());
      out.append("\r\n");
    }
  }
  if (r.status != 101) out.append(keep_alive ? "" : "Connection: close\r\n");
  for (const auto& [name, value] : r.headers) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  }
  out.append("\r\n");
  if (head_only || no_content || r.file) return;
  if (!r.chunked) {
    out.append(r.body);
    return;
  }
  const auto chunk = [&out](std::string_view data) {
    if (data.empty()) return;  // an empty chunk would end the body
    append_hex(out, data.size());
    out.append("\r\n");
    out.append(data);
    out.append("\r\n");
  };
  chunk(r.body);
  for (const auto& c : r.chunks) chunk(c);
  out.append("0\r\n\r\n");
}

std::string http_date(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::int64_t parse_http_date(std::string_view text) noexcept {
  // Only IMF-fixdate; the obsolete formats are rare enough that "not a date" (ignore the
  // condition) is the safe reading.
  if (text.size() != 29 || text.substr(25) != " GMT") return -1;
  std::tm tm{};
  const auto num = [&](std::size_t at, std::size_t n, int& v) {
    v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    return true;
  };
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = i;
  }
  int year = 0;
  if (month < 0 || !num(5, 2, tm.tm_mday) || !num(12, 4, year) || !num(17, 2, tm.tm_hour) ||
      !num(20, 2, tm.tm_min) || !num(23, 2, tm.tm_sec))
    return -1;
  tm.tm_mon = month;
  tm.tm_year = year - 1900;
  return static_cast<std::int64_t>(::timegm(&tm));
}

}  // namespace duplex::http
