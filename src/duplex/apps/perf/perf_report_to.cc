#include "duplex/apps/perf/perf_report_to.h"

#include <charconv>
#include <utility>

#include "duplex/reactor/buffer.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_client.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::apps::perf {

std::optional<ReportUrl> parse_report_url(std::string_view url, std::string& why) {
  const std::string text(url);
  why = "--report-to '" + text +
        "' must be duplex serve's dashboard URL, http://HOST:PORT (e.g. http://127.0.0.1:8080)";
  if (url.substr(0, 7) != "http://") return std::nullopt;
  url.remove_prefix(7);
  if (const auto slash = url.find('/'); slash != std::string_view::npos) {
    const auto rest = url.substr(slash);
    if (rest != "/" && rest.substr(0, 2) != "/?") return std::nullopt;
    url = url.substr(0, slash);
  }
  ReportUrl out;
  std::string_view port;
  if (!url.empty() && url.front() == '[') {
    const auto close = url.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(url.substr(0, close + 1));
    const auto after = url.substr(close + 1);
    if (!after.empty() && after.front() != ':') return std::nullopt;
    if (!after.empty()) port = after.substr(1);
  } else {
    const auto colon = url.rfind(':');
    out.host = std::string(url.substr(0, colon));
    if (colon != std::string_view::npos) port = url.substr(colon + 1);
  }
  if (out.host.empty() || out.host == "[]") return std::nullopt;
  if (!port.empty() || url.find(':') != std::string_view::npos) {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || end != port.data() + port.size() || v == 0 || v > 65535)
      return std::nullopt;
    out.port = static_cast<std::uint16_t>(v);
  }
  why.clear();
  return out;
}

ReportTo::ReportTo(EventLoop* loop, const ReportUrl& url, std::string token)
    : loop_(loop),
      url_text_("http://" + url.host + ":" + std::to_string(url.port)),
      host_header_(url.host + ":" + std::to_string(url.port)),
      token_(std::move(token)) {
  client_ = std::make_unique<TcpClient>(loop_, TcpClient::resolve(url.host, url.port), "report-to");
  client_->set_connect_timeout(std::chrono::seconds(3));
  std::weak_ptr<ReportTo*> alive = alive_;
  client_->set_connection_callback([this, alive](const TcpConnectionPtr& c) {
    if (alive.expired()) return;
    if (c->connected()) {
      conn_ = c;
      send_next();
    } else if (conn_ == c) {
      conn_.reset();
      if (in_flight_ > 0 || !queue_.empty()) fail("the server closed the connection");
    }
  });
  client_->set_message_callback([this, alive](const TcpConnectionPtr&, Buffer& in, auto) {
    if (!alive.expired()) read(in);
  });
  client_->set_connect_failed_callback([this, alive](const std::string& why) {
    if (!alive.expired()) fail(why);
  });
  client_->connect();
}

ReportTo::~ReportTo() {
  alive_.reset();
  if (conn_) conn_->force_close();
  client_->stop();
}

void ReportTo::post(const nlohmann::json& message) {
  if (failed_) return;
  const std::string body = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string req =
      "POST /api/perf/report HTTP/1.1\r\nHost: " + host_header_ + "\r\nAuthorization: Bearer " +
      token_ +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  queue_.push_back(std::move(req));
  send_next();
}

void ReportTo::send_next() {
  if (!conn_ || !conn_->connected()) return;
  while (!queue_.empty()) {
    conn_->send(queue_.front());
    queue_.pop_front();
    ++in_flight_;
  }
}

// Responses, in order: the status line, the head, a Content-Length body.
void ReportTo::read(Buffer& input) {
  while (true) {
    const std::string_view data = input.view();
    const auto head_end = data.find("\r\n\r\n");
    if (head_end == std::string_view::npos) return;
    const auto head = data.substr(0, head_end);
    std::size_t length = 0;
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;
         at = head.find("\r\n", at + 2)) {
      const auto line = head.substr(at + 2, head.find("\r\n", at + 2) - (at + 2));
      if (line.size() > 15 && (line[0] == 'C' || line[0] == 'c') &&
          (line.substr(1, 14) == "ontent-Length:" || line.substr(1, 14) == "ontent-length:")) {
        auto value = line.substr(15);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        std::from_chars(value.data(), value.data() + value.size(), length);
      }
    }
    if (data.size() < head_end + 4 + length) return;
    const auto status_line = head.substr(0, head.find("\r\n"));
    const std::string body(data.substr(head_end + 4, length));
    input.retrieve(head_end + 4 + length);
    if (in_flight_ > 0) --in_flight_;
    if (status_line.size() < 12 || status_line.substr(9, 3) != "204") {
      const std::string status(status_line.substr(status_line.find(' ') + 1));
      if (status.rfind("401", 0) == 0)
        return fail(status +
                    ": the token is wrong; give the one in duplex serve's dashboard URL "
                    "(--token TOKEN)");
      const auto j = nlohmann::json::parse(body, nullptr, false);
      const std::string why = j.is_object() && j.contains("error") && j["error"].is_string()
                                  ? j["error"].get<std::string>()
                                  : body.substr(0, 200);
      fail(status + (why.empty() ? "" : ": " + why));
      return;
    }
    maybe_done();
  }
}

void ReportTo::fail(const std::string& why) {
  if (failed_) return;
  failed_ = true;
  queue_.clear();
  in_flight_ = 0;
  std::string line = "--report-to " + url_text_ + ": " + why;
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  if (error_cb_) error_cb_(line + "; the test goes on without reporting");
  maybe_done();
}

void ReportTo::flush(std::function<void()> done, std::chrono::milliseconds timeout) {
  done_ = std::move(done);
  std::weak_ptr<ReportTo*> alive = alive_;
  loop_->run_after(timeout, [this, alive] {
    if (alive.expired() || !done_) return;
    fail("no answer within the flush timeout");
  });
  maybe_done();
}

void ReportTo::maybe_done() {
  if (!done_ || (!failed_ && (in_flight_ > 0 || !queue_.empty()))) return;
  auto done = std::move(done_);
  done_ = nullptr;
  done();
}

}  // namespace duplex::apps::perf
