#include "duplex/apps/dashboard/scan_ws.h"

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "duplex/apps/dashboard/dashboard_internal.h"
#include "duplex/apps/scan/scanner.h"
#include "duplex/apps/scan/services.h"
#include "duplex/base/error.h"
#include "duplex/base/log.h"
#include "duplex/link/neighbour_table.h"
#include "duplex/link/oui.h"
#include "duplex/proto/http_json.h"
#include "duplex/proto/http_router.h"
#include "duplex/proto/websocket_http.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::apps {
namespace {

using Json = nlohmann::json;
using WsPtr = std::shared_ptr<websocket::Connection>;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

const scan::Services& services() {
  static const scan::Services table = scan::Services::load();
  return table;
}

// One scan that this process runs for one page.
class ScanRun : public std::enable_shared_from_this<ScanRun> {
 public:
  explicit ScanRun(std::shared_ptr<ScanWsOptions> options, std::shared_ptr<unsigned> running)
      : options_(std::move(options)), running_(std::move(running)) {}
  ~ScanRun() {
    if (counted_) --*running_;
    if (progress_timer_ && loop_) loop_->cancel(progress_timer_);
    // The scanner may be inside one of its callbacks: free it on the next round.
    if (scanner_ && loop_) {
      scanner_->stop();
      std::shared_ptr<scan::Scanner> scanner = std::move(scanner_);
      loop_->queue_in_loop([scanner] {});
    }
  }
  ScanRun(const ScanRun&) = delete;
  ScanRun& operator=(const ScanRun&) = delete;

  void open(const WsPtr& ws) {
    ws_ = ws;
    auto tcp = ws->tcp();
    if (!tcp) return;
    loop_ = tcp->loop();
    local_ = scan::local_prefixes();
    send(Json{
        {"type", "ready"},
        {"targets", default_scan_targets(tcp->local().address(), local_, options_->max_addresses)},
        {"max_addresses", options_->max_addresses},
        {"max_ports", options_->max_ports}});
  }

  void on_event(websocket::Connection&, websocket::Session::Event& ev) {
    using Kind = websocket::Session::Event::Kind;
    if (ev.kind == Kind::close || ev.kind == Kind::error) {
      if (scanner_) scanner_->stop();  // no further callbacks
      return;
    }
    if (ev.kind != Kind::text && ev.kind != Kind::binary) return;
    if (asked_) return fail("request", "one scan per connection: open a new one for the next");
    asked_ = true;
    std::string cause, why;
    auto request = parse_scan_request(ev.data, local_, *options_, cause, why);
    if (!request) return fail(cause.c_str(), why);
    if (*running_ >= options_->max_scans)
      return fail("busy", std::to_string(*running_) +
                              " scan(s) running, the most this server runs at once; wait for "
                              "one to end, then start again");
    start(std::move(*request));
  }

 private:
  void start(ScanRequest request) {
    ++*running_;
    counted_ = true;
    started_ = Clock::now();
    scan::ScanOptions options;
    options.max_inflight = std::min(options_->max_inflight, scan::probe_fd_budget());
    const auto addresses = request.targets.size();
    const auto ports = request.ports.size();
    scanner_ = std::make_shared<scan::Scanner>(*loop_, std::move(request.targets),
                                               std::move(request.ports), options);
    std::weak_ptr<ScanRun> weak = weak_from_this();
    scanner_->on_host([weak](scan::HostResult r) {
      if (auto self = weak.lock()) self->host(r);
    });
    scanner_->on_done([weak] {
      if (auto self = weak.lock()) self->done();
    });
    progress_timer_ = loop_->run_every(std::chrono::seconds(1), [weak] {
      if (auto self = weak.lock()) self->progress();
    });
    send(Json{{"type", "started"},
              {"targets", request.targets_text},
              {"addresses", addresses},
              {"ports", ports}});
    log::info("scan", "dashboard scan of ", request.targets_text, " (", addresses, " addresses, ",
              ports, " ports) started");
    try {
      scanner_->start();
    } catch (const Error& e) {
      fail("scan", e.what());
    }
  }

  void host(const scan::HostResult& r) {
    const std::size_t open = r.count(scan::PortState::open);
    if (open + r.count(scan::PortState::closed) == 0) return;  // no answer: down or filtered
    ++hosts_up_;
    const auto address = r.target.address.unmapped();
    std::string mac, vendor;
    for (const auto& n : link::NeighbourTable::list()) {
      if (n.ip.unmapped() != address || !n.mac) continue;
      mac = n.mac->to_string();
      if (const auto a = link::oui::lookup(*n.mac)) vendor = std::string(a->organization);
      break;
    }
    const std::string host = address.to_string();
    send(Json{{"type", "host"}, {"host", host}, {"mac", mac}, {"vendor", vendor}});
    for (const std::size_t i : r.by_port()) {
      if (r.outcomes[i].state != scan::PortState::open) continue;
      ++ports_open_;
      send(Json{{"type", "port"},
                {"host", host},
                {"port", r.ports[i]},
                {"state", "open"},
                {"service", services().name(r.ports[i], scan::Protocol::tcp)}});
    }
  }

  void progress() {
    if (!scanner_) return;
    const auto p = scanner_->progress();
    send(Json{{"type", "progress"},
              {"done", p.done},
              {"total", p.total},
              {"open", p.open},
              {"hosts_done", p.hosts_done},
              {"hosts", p.hosts}});
  }

  void done() {
    progress();
    if (progress_timer_) loop_->cancel(progress_timer_);
    progress_timer_ = {};
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    send(Json{{"type", "done"},
              {"hosts_up", hosts_up_},
              {"ports_open", ports_open_},
              {"seconds", seconds}});
    log::info("scan", "dashboard scan done: ", hosts_up_, " host(s) up, ", ports_open_,
              " open port(s)");
    if (counted_) --*running_;
    counted_ = false;
    if (auto ws = ws_.lock()) ws->close(websocket::CloseCode::normal, "scan done");
  }

  void fail(const char* cause, const std::string& message) {
    log::info("scan", "dashboard scan refused: ", message);
    send(Json{{"type", "error"}, {"cause", cause}, {"message", message}});
    if (scanner_) scanner_->stop();
    if (auto ws = ws_.lock()) ws->close(websocket::CloseCode::normal, "scan refused");
  }

  void send(const Json& j) {
    if (auto ws = ws_.lock()) ws->send_text(dump(j));
  }

  std::shared_ptr<ScanWsOptions> options_;
  std::shared_ptr<unsigned> running_;
  std::weak_ptr<websocket::Connection> ws_;
  EventLoop* loop_ = nullptr;
  std::vector<inet::Prefix> local_;
  std::shared_ptr<scan::Scanner> scanner_;
  TimerId progress_timer_{};
  Clock::time_point started_{};
  std::size_t hosts_up_ = 0, ports_open_ = 0;
  bool asked_ = false, counted_ = false;
};

}  // namespace

void add_scan_routes(http::Router& router, ScanWsOptions options) {
  auto shared = std::make_shared<ScanWsOptions>(std::move(options));
  auto running = std::make_shared<unsigned>(0);
  router.add("GET", "/ws/scan",
             [shared, running](const http::Request& req, const http::Params&, http::Response& res) {
               if (dashboard::refuse_without_token(shared->has_token, req, res, "scans need"))
                 return;
               websocket::ConnectionOptions ws_options;
               ws_options.session.max_message_size = 1024;
               auto run = std::make_shared<ScanRun>(shared, running);
               websocket::accept_upgrade(
                   req, res, ws_options,
                   [run](websocket::Connection& c, websocket::Session::Event& ev) {
                     run->on_event(c, ev);
                   },
                   [run](const WsPtr& ws) { run->open(ws); });
             });
}

}  // namespace duplex::apps
