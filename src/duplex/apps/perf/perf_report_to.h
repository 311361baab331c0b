// Public. `duplex perf -c HOST --report-to http://SERVE:PORT --token T`: each of the test's
// live messages (perf_live.h) as one POST /api/perf/report to a `duplex serve`, whose Perf
// page shows the run as "watching". The requests go one after another on one keep-alive
// connection from the test's own loop, so reporting never blocks the test; a refusal
// (401: wrong token) or a lost connection is one line, and the test goes on without it.
// Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/transport/callbacks.h"

namespace duplex {
class EventLoop;
class TcpClient;
class Buffer;
}  // namespace duplex

namespace duplex::apps::perf {

struct ReportUrl {
  std::string host;  // as in the URL ("127.0.0.1", "[::1]", "serve.lan")
  std::uint16_t port = 80;
};

// "http://127.0.0.1:8080", "http://[::1]:8080/", "http://host" (port 80). nullopt and `why`
// for anything else (https, a path other than /, a bad port).
std::optional<ReportUrl> parse_report_url(std::string_view url, std::string& why);

class ReportTo {
 public:
  // Resolves the host (blocking); throws duplex::Error naming it.
  ReportTo(EventLoop* loop, const ReportUrl& url, std::string token);
  ~ReportTo();
  ReportTo(const ReportTo&) = delete;
  ReportTo& operator=(const ReportTo&) = delete;

  // The first failure, once: "--report-to http://...: 401 ..." (the test goes on).
  void on_error(std::function<void(const std::string&)> cb) { error_cb_ = std::move(cb); }
  void post(const nlohmann::json& message);
  // Calls `done` once every posted message is answered, or after `timeout`, or at once
  // after a failure.
  void flush(std::function<void()> done,
             std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

 private:
  void send_next();
  void read(Buffer& input);
  void fail(const std::string& why);
  void maybe_done();

  EventLoop* loop_;
  std::string url_text_;
  std::string host_header_;
  std::string token_;
  std::unique_ptr<TcpClient> client_;
  TcpConnectionPtr conn_;
  std::deque<std::string> queue_;  // requests not yet sent
  std::size_t in_flight_ = 0;      // sent, not yet answered
  bool failed_ = false;
  std::function<void(const std::string&)> error_cb_;
  std::function<void()> done_;
  std::shared_ptr<ReportTo*> alive_ = std::make_shared<ReportTo*>(this);
};

}  // namespace duplex::apps::perf
