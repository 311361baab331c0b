#include "duplex/apps/dashboard/perf_ws.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "duplex/apps/dashboard/dashboard_internal.h"
#include "duplex/apps/perf/perf_client.h"
#include "duplex/apps/perf/perf_live.h"
#include "duplex/base/error.h"
#include "duplex/base/log.h"
#include "duplex/proto/http_json.h"
#include "duplex/proto/http_router.h"
#include "duplex/proto/websocket_http.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_client.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::apps {
namespace {

using Json = nlohmann::json;
using WsPtr = std::shared_ptr<websocket::Connection>;

// The messages of one reported run kept for a watcher that joins late (a 60 s test at one
// interval a second, with room to spare).
constexpr std::size_t kReplay = 1000;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

struct Shared {
  PerfWsOptions options;
  unsigned running = 0;
  std::vector<std::weak_ptr<websocket::Connection>> watchers;
  std::string current_run;  // the run whose messages `replay` holds
  std::deque<std::string> replay;
  std::uint64_t next_run = 1;

  void broadcast(const std::string& text) {
    std::erase_if(watchers, [&](const std::weak_ptr<websocket::Connection>& w) {
      auto ws = w.lock();
      if (!ws || !ws->tcp()) return true;
      ws->send_text(text);
      return false;
    });
  }
};

std::optional<unsigned> whole(std::string_view text) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

bool host_ok(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '[' || c == ']' || c == '_' || c == '%';
  });
}

// One test that this process runs for one page.
class PerfRun : public std::enable_shared_from_this<PerfRun> {
 public:
  PerfRun(std::shared_ptr<Shared> shared, PerfRequest request)
      : shared_(std::move(shared)), request_(std::move(request)) {}
  ~PerfRun() {
    if (counted_) --shared_->running;
  }
  PerfRun(const PerfRun&) = delete;
  PerfRun& operator=(const PerfRun&) = delete;

  void open(const WsPtr& ws) {
    ws_ = ws;
    auto tcp = ws->tcp();
    if (!tcp) return;
    loop_ = tcp->loop();
    if (shared_->running >= shared_->options.max_tests)
      return fail("busy", std::to_string(shared_->running) +
                              " test(s) running, the most this server runs at once; wait for "
                              "it to end or stop it, then start again");
    perf::ClientOptions options;
    try {
      options.servers = TcpClient::resolve(request_.host, request_.port);
    } catch (const Error& e) {
      return fail("host", e.what());
    }
    ++shared_->running;
    counted_ = true;
    options.host = request_.host;
    options.params = request_.params;
    options.params.client_version = "3.12";
    options.interval = 1.0;
    options.version = "duplex 0.1.0";
    options.connect_timeout = std::chrono::seconds(5);
    run_ = "serve-" + std::to_string(shared_->next_run++);
    client_ = std::make_unique<perf::Client>(loop_, options);
    std::weak_ptr<PerfRun> weak = weak_from_this();
    client_->on_interval([weak](const perf::Interval& interval) {
      if (auto self = weak.lock()) self->interval(interval);
    });
    client_->on_finished([weak](bool ok, const std::string& why) {
      if (auto self = weak.lock()) self->finished(ok, why);
    });
    send(perf::live_started({run_, "serve", request_.host, request_.port, request_.params}));
    log::info("perf", "test against ", request_.host, " port ", request_.port, " started");
    client_->start();
  }

  void refuse(const WsPtr& ws, const char* cause, const std::string& why) {
    ws_ = ws;
    fail(cause, why);
  }

  void on_event(websocket::Connection&, websocket::Session::Event& ev) {
    using Kind = websocket::Session::Event::Kind;
    // The page only listens; a Close stops the test.
    if ((ev.kind == Kind::close || ev.kind == Kind::error) && client_ && !done_)
      client_->terminate();
  }

 private:
  void interval(const perf::Interval& interval) {
    send(perf::live_interval(run_, index_++, interval, request_.params.protocol));
  }

  void finished(bool ok, const std::string& why) {
    done_ = true;
    send(perf::live_end(run_, client_->report(), ok, why));
    if (counted_) --shared_->running;
    counted_ = false;
    if (auto ws = ws_.lock()) ws->close(websocket::CloseCode::normal, "test over");
    // The client is inside its own callback: free it on the next round.
    auto self = shared_from_this();
    loop_->queue_in_loop([self] { self->client_.reset(); });
  }

  void fail(const char* cause, const std::string& message) {
    log::info("perf", "refused: ", message);
    send(Json{{"type", "error"}, {"cause", cause}, {"message", message}});
    if (auto ws = ws_.lock()) ws->close(websocket::CloseCode::normal, "perf refused");
  }

  void send(const Json& j) {
    if (auto ws = ws_.lock()) ws->send_text(dump(j));
  }

  std::shared_ptr<Shared> shared_;
  PerfRequest request_;
  std::weak_ptr<websocket::Connection> ws_;
  EventLoop* loop_ = nullptr;
  std::unique_ptr<perf::Client> client_;
  std::string run_;
  int index_ = 0;
  bool counted_ = false;
  bool done_ = false;
};

bool refuse_without_token(const Shared& shared, const http::Request& req, http::Response& res) {
  return dashboard::refuse_without_token(shared.options.has_token, req, res, "perf tests need",
                                         ", or pass --token to duplex perf --report-to");
}

void watch(const std::shared_ptr<Shared>& shared, const WsPtr& ws) {
  if (shared->watchers.size() >= shared->options.max_watchers) {
    ws->send_text(dump(Json{{"type", "error"},
                            {"cause", "busy"},
                            {"message", "too many pages are watching; close one"}}));
    ws->close(websocket::CloseCode::normal, "busy");
    return;
  }
  ws->send_text(R"({"type":"watching"})");
  for (const auto& text : shared->replay) ws->send_text(text);
  shared->watchers.push_back(ws);
}

// POST /api/perf/report: one live message from a CLI run, to every watcher.
void report(Shared& shared, const http::Request& req, http::Response& res) {
  Json j = Json::parse(req.body, nullptr, false);
  static constexpr std::string_view kTypes[] = {"started", "interval", "end"};
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string() ||
      std::find(std::begin(kTypes), std::end(kTypes), j["type"].get<std::string>()) ==
          std::end(kTypes))
    return http::send_json_error(
        res, 400, "the body must be one JSON object whose type is started, interval or end");
  if (!j.contains("run") || !j["run"].is_string() || j["run"].get<std::string>().empty() ||
      j["run"].get<std::string>().size() > 64)
    return http::send_json_error(res, 400, "\"run\" must be a string of 1 to 64 characters");
  const std::string run = j["run"].get<std::string>();
  if (run.rfind("serve-", 0) == 0)
    return http::send_json_error(res, 400, "\"run\" ids starting with serve- are this server's");
  j["source"] = "cli";
  const std::string text = dump(j);
  if (run != shared.current_run) {
    shared.current_run = run;
    shared.replay.clear();
  }
  if (shared.replay.size() >= kReplay) shared.replay.pop_front();
  shared.replay.push_back(text);
  shared.broadcast(text);
  res.status = 204;
}

}  // namespace

std::optional<std::uint64_t> parse_rate(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || !(value >= 0)) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  double scale = 1;
  if (unit == "K" || unit == "k") {
    scale = 1e3;
  } else if (unit == "M" || unit == "m") {
    scale = 1e6;
  } else if (unit == "G" || unit == "g") {
    scale = 1e9;
  } else if (!unit.empty()) {
    return std::nullopt;
  }
  if (value * scale > 1e15) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(value * scale));
}

std::optional<PerfRequest> parse_perf_request(
    const std::function<std::optional<std::string>(std::string_view)>& get,
    const PerfWsOptions& options, std::string& why) {
  PerfRequest r;
  const auto host = get("host");
  if (!host || !host_ok(*host)) {
    why = host ? "host=" + *host + " is not a host name or address; give e.g. host=127.0.0.1"
               : "choose a host: ?host=127.0.0.1 (where duplex perf -s or iperf3 -s runs)";
    return std::nullopt;
  }
  r.host = *host;
  if (const auto port = get("port")) {
    const auto v = whole(*port);
    if (!v || *v == 0 || *v > 65535) {
      why = "port=" + *port + " must be a port from 1 to 65535 (iperf3's is 5201)";
      return std::nullopt;
    }
    r.port = static_cast<std::uint16_t>(*v);
  }
  const std::string proto = get("proto").value_or("tcp");
  if (proto != "tcp" && proto != "udp") {
    why = "proto=" + proto + " must be tcp or udp";
    return std::nullopt;
  }
  r.params.protocol = proto == "udp" ? perf::Protocol::kUdp : perf::Protocol::kTcp;
  r.params.time = 10;
  if (const auto time = get("time")) {
    const auto v = whole(*time);
    if (!v || *v == 0 || *v > options.max_time) {
      why = "time=" + *time + " must be a whole number of seconds from 1 to " +
            std::to_string(options.max_time);
      return std::nullopt;
    }
    r.params.time = *v;
  }
  r.params.bandwidth = r.params.protocol == perf::Protocol::kUdp ? perf::kDefaultUdpRate : 0;
  if (const auto rate = get("rate")) {
    const auto v = parse_rate(*rate);
    const bool udp = r.params.protocol == perf::Protocol::kUdp;
    if (!v || *v > options.max_rate || (udp && *v == 0)) {
      why = "rate=" + *rate + " must be bits a second per stream, e.g. 100M, from " +
            (udp ? "1" : "0 (unlimited)") + " to " + std::to_string(options.max_rate / 1000000) +
            "M";
      return std::nullopt;
    }
    r.params.bandwidth = *v;
  }
  if (const auto reverse = get("reverse")) {
    if (*reverse != "0" && *reverse != "1" && *reverse != "true" && *reverse != "false") {
      why = "reverse=" + *reverse + " must be 1 (the server sends) or 0";
      return std::nullopt;
    }
    r.params.reverse = *reverse == "1" || *reverse == "true";
  }
  if (const auto streams = get("streams")) {
    const auto v = whole(*streams);
    if (!v || *v == 0 || *v > options.max_streams) {
      why = "streams=" + *streams + " must be from 1 to " + std::to_string(options.max_streams);
      return std::nullopt;
    }
    r.params.parallel = *v;
  }
  return r;
}

void add_perf_routes(http::Router& router, PerfWsOptions options) {
  auto shared = std::make_shared<Shared>();
  shared->options = std::move(options);
  router.add("POST", "/api/perf/report",
             [shared](const http::Request& req, const http::Params&, http::Response& res) {
               if (!refuse_without_token(*shared, req, res)) report(*shared, req, res);
             });
  router.add(
      "GET", "/ws/perf",
      [shared](const http::Request& req, const http::Params&, http::Response& res) {
        if (refuse_without_token(*shared, req, res)) return;
        dashboard::Query query;
        if (!query.parse(req, res)) return;
        websocket::ConnectionOptions ws_options;
        ws_options.session.max_message_size = 1024;
        if (query.has("watch")) {
          websocket::accept_upgrade(
              req, res, ws_options, [](websocket::Connection&, websocket::Session::Event&) {},
              [shared](const WsPtr& ws) { watch(shared, ws); });
          return;
        }
        std::string why;
        auto request = parse_perf_request(
            [&query](std::string_view name) { return query.get(name); }, shared->options, why);
        auto run = std::make_shared<PerfRun>(shared, request.value_or(PerfRequest{}));
        websocket::accept_upgrade(
            req, res, ws_options,
            [run](websocket::Connection& c, websocket::Session::Event& ev) {
              run->on_event(c, ev);
            },
            [run, why](const WsPtr& ws) {
              if (!why.empty()) return run->refuse(ws, "parameters", why);
              run->open(ws);
            });
      });
}

}  // namespace duplex::apps
