#include "duplex/apps/dashboard/capture_ws.h"

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "duplex/apps/capture/chain.h"
#include "duplex/apps/capture/flow_diagram.h"
#include "duplex/apps/capture/json_output.h"
#include "duplex/apps/capture/line_output.h"
#include "duplex/apps/capture/packet_source.h"
#include "duplex/apps/chat/chat_flood.h"
#include "duplex/apps/dashboard/dashboard_internal.h"
#include "duplex/base/log.h"
#include "duplex/proto/http_json.h"
#include "duplex/proto/http_router.h"
#include "duplex/proto/websocket_http.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::apps {
namespace {

using Json = nlohmann::json;

// Packets read per readable event: a busy interface cannot hold the loop (the fd stays
// readable, so the rest come next round).
constexpr int kPacketsPerRound = 64;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

struct Shared {
  CaptureWsOptions options;
  unsigned open = 0;  // captures running
};

// What the page asked for, from the query.
struct Request {
  std::string interface;
  std::string filter;
  unsigned rate = 0;
};

std::string refused_without_cap_net_raw() {
  return "duplex serve lacks CAP_NET_RAW, which capturing needs: run duplex serve as root, or "
         "give it the capability: sudo setcap cap_net_raw,cap_net_admin+ep $(command -v duplex)";
}

// "127.0.0.1:80", "[::1]:443", "10.0.0.1" (no transport), a MAC for what has no IP.
std::string endpoint_text(const capture::DecodedPacket& p, bool source) {
  const inet::Address* a = source ? p.source() : p.destination();
  if (a != nullptr) {
    const std::uint16_t port = source ? p.source_port() : p.destination_port();
    if (port == 0) return a->to_string();
    return a->is_v6() ? "[" + a->to_string() + "]:" + std::to_string(port)
                      : a->to_string() + ":" + std::to_string(port);
  }
  if (p.has(capture::Protocol::arp) && !p.arp.problem && p.arp.ipv4_over_ethernet)
    return (source ? p.arp.frame.sender_ip : p.arp.frame.target_ip).to_string();
  if (p.has(capture::Protocol::ethernet))
    return (source ? p.ethernet.source : p.ethernet.destination).to_string();
  return "";
}

void append_base64(std::string& out, std::span<const std::uint8_t> bytes) {
  const std::size_t at = out.size();
  out.resize(at + 4 * ((bytes.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(at + static_cast<std::size_t>(n));
}

class CaptureSession : public std::enable_shared_from_this<CaptureSession> {
 public:
  CaptureSession(std::shared_ptr<Shared> shared, Request request)
      : shared_(std::move(shared)),
        request_(std::move(request)),
        bucket_(FloodLimits{static_cast<double>(request_.rate), static_cast<double>(request_.rate),
                            0, 0, 0}) {}
  ~CaptureSession() { stop(); }
  CaptureSession(const CaptureSession&) = delete;
  CaptureSession& operator=(const CaptureSession&) = delete;

  void open(const std::shared_ptr<websocket::Connection>& ws) {
    ws_ = ws;
    auto tcp = ws->tcp();
    if (!tcp) return;
    loop_ = tcp->loop();
    if (request_.interface.empty())
      return fail("interface",
                  "choose an interface: ?iface=lo (GET /api/capture/interfaces lists them)");
    if (!dashboard::has_cap_net_raw()) return fail("permission", refused_without_cap_net_raw());
    if (shared_->open >= shared_->options.max_captures)
      return fail("busy", std::to_string(shared_->open) +
                              " captures are open, the most this server runs at once; stop "
                              "one (close its Capture page) and start again");
    capture::SourceOptions options;
    options.interface = request_.interface;
    options.filter = request_.filter;
    // Loopback frames are up to 64 KiB: libpcap's default 2 MiB ring holds about 16, which
    // a burst (a page load) overflows before the loop's next round. As for -w: 8 MiB.
    options.buffer_size = 8 << 20;
    try {
      source_ = std::make_unique<capture::PacketSource>(options);
      source_->set_nonblocking();
    } catch (const capture::CaptureError& e) {
      source_.reset();
      const std::string why = e.what();
      const char* cause = why.rfind("bad filter", 0) == 0             ? "filter"
                          : why.find("CAP_NET_") != std::string::npos ? "permission"
                                                                      : "interface";
      return fail(cause, why);
    }
    ++shared_->open;
    counted_ = true;
    link_type_ = source_->link_type();
    channel_ = std::make_unique<Channel>(loop_, source_->selectable_fd());
    channel_->tie(shared_from_this());
    channel_->on_read([this] { read(); });
    // The interface went down or away: read what is left, then say so.
    channel_->on_error([this] { ended(); });
    channel_->on_close([this] { ended(); });
    channel_->enable_reading();
    std::weak_ptr<CaptureSession> weak = weak_from_this();
    timer_ = loop_->run_every(shared_->options.report_every, [weak] {
      if (auto self = weak.lock()) self->report();
    });
    timer_armed_ = true;
    Json headings = Json::object();
    for (auto layer : {dissect::Layer::link, dissect::Layer::network, dissect::Layer::transport,
                       dissect::Layer::application})
      headings[std::string(dissect::name(layer))] = dissect::heading(layer);
    send_text(dump(Json{{"type", "started"},
                        {"interface", source_->name()},
                        {"filter", request_.filter},
                        {"link_type", source_->link_type_name()},
                        {"rate", request_.rate},
                        {"headings", std::move(headings)}}));
    log::info("capture", "started on ", source_->name(), " (filter '", request_.filter, "')");
  }

  // A request refused before any capture opened: the message, then a Close.
  void refuse(const std::shared_ptr<websocket::Connection>& ws, const char* cause,
              const std::string& why) {
    ws_ = ws;
    fail(cause, why);
  }

  void on_event(websocket::Connection&, websocket::Session::Event& ev) {
    using Kind = websocket::Session::Event::Kind;
    // The page only listens; what it sends is ignored. A Close ends the capture.
    if (ev.kind == Kind::close || ev.kind == Kind::error) stop();
  }

 private:
  void read() {
    if (!source_) return;
    dispatching_ = true;
    try {
      source_->dispatch(kPacketsPerRound, [this](const capture::CapturedPacket& p) { packet(p); });
    } catch (const capture::CaptureError& e) {
      dispatching_ = false;
      return fail("capture", e.what());
    }
    dispatching_ = false;
    if (stopping_) stop();
  }

  void ended() {
    read();
    if (source_ && !stopping_)
      fail("capture", "the capture on " + source_->name() +
                          " ended: the interface went down or away (`ip link` shows it)");
  }

  void packet(const capture::CapturedPacket& p) {
    if (stopping_) return source_->stop();
    ++captured_;
    const auto decoded = capture::decode_packet(link_type_, p.bytes, p.length);
    // Every packet goes through the flow's TCP tracker, so that the sequence numbers of
    // those sent stay relative to the connection's first, whatever the cap left out.
    auto step = flow_.step(decoded, p.bytes, p.time);
    auto ws = ws_.lock();
    auto tcp = ws ? ws->tcp() : nullptr;
    if (!tcp) return;
    if (tcp->output_bytes() + ws->session().queued_bytes() > shared_->options.max_output ||
        !bucket_.admit(loop_->poll_time())) {
      ++left_out_;
      return;
    }
    std::string out = R"({"type":"packet","number":)";
    out += std::to_string(captured_);
    out += R"(,"time":")";
    out += capture::iso_time(p.time);
    out += R"(","length":)";
    out += std::to_string(p.length);
    out += R"(,"captured":)";
    out += std::to_string(p.bytes.size());
    out += R"(,"source":)";
    capture::append_json_string(out, endpoint_text(decoded, true));
    out += R"(,"destination":)";
    capture::append_json_string(out, endpoint_text(decoded, false));
    out += R"(,"protocol":)";
    const auto* top = decoded.top();
    capture::append_json_string(out, top ? capture::protocol_name(top->protocol) : "?");
    out += R"(,"summary":)";
    std::string summary;
    lines_.append_summary(summary, decoded, p.bytes);
    capture::append_json_string(out, summary);
    out += R"(,"bytes":")";
    append_base64(out, p.bytes);
    out += R"(","layers":[)";
    const auto headers = capture::describe_packet(decoded, p.bytes);
    for (std::size_t i = 0; i < headers.size(); ++i) {
      if (i != 0) out += ',';
      capture::append_header_json(out, headers[i]);
    }
    out += ']';
    if (step) {
      out += R"(,"flow":{"from":)";
      capture::append_json_string(out, step->from);
      out += R"(,"to":)";
      capture::append_json_string(out, step->to);
      out += R"(,"label":)";
      capture::append_json_string(out, step->label);
      out += '}';
    }
    out += '}';
    ++sent_;
    ws->send_text(out);
  }

  void report() {
    if (!source_) return;
    const auto kernel = source_->stats();
    send_text(dump(Json{{"type", "stats"},
                        {"captured", captured_},
                        {"sent", sent_},
                        {"left_out", left_out_},
                        {"kernel_dropped", kernel.dropped},
                        {"interface_dropped", kernel.interface_dropped}}));
  }

  // One message naming the cause and the fix, then a Close.
  void fail(const char* cause, const std::string& message) {
    log::info("capture", "refused or failed: ", message);
    send_text(dump(Json{{"type", "error"}, {"cause", cause}, {"message", message}}));
    stop();
    if (auto ws = ws_.lock()) ws->close(websocket::CloseCode::normal, "capture stopped");
  }

  void send_text(const std::string& text) {
    if (auto ws = ws_.lock()) ws->send_text(text);
  }

  // Closes the capture and frees its fd; not under pcap_dispatch (read() finishes it).
  void stop() {
    if (dispatching_) {
      stopping_ = true;
      return;
    }
    if (timer_armed_ && loop_ != nullptr) loop_->cancel(timer_);
    timer_armed_ = false;
    channel_.reset();
    source_.reset();
    if (counted_) --shared_->open;
    counted_ = false;
  }

  std::shared_ptr<Shared> shared_;
  Request request_;
  std::weak_ptr<websocket::Connection> ws_;
  EventLoop* loop_ = nullptr;
  std::unique_ptr<capture::PacketSource> source_;  // before channel_: it owns the fd
  std::unique_ptr<Channel> channel_;
  TimerId timer_{};
  bool timer_armed_ = false;
  bool counted_ = false;
  bool dispatching_ = false;
  bool stopping_ = false;
  int link_type_ = 0;
  FloodControl bucket_;  // the rate cap: a token bucket, nothing queued
  capture::LineFormatter lines_;
  capture::FlowDiagram flow_;
  std::uint64_t captured_ = 0, sent_ = 0, left_out_ = 0;
};

bool refuse_without_token(const Shared& shared, const http::Request& req, http::Response& res) {
  return dashboard::refuse_without_token(shared.options.has_token, req, res, "capturing needs");
}

void interfaces(const Shared& shared, http::Response& res) {
  Json list = Json::array();
  try {
    for (const auto& i : capture::capture_interfaces())
      list.push_back({{"name", i.name},
                      {"description", i.description},
                      {"up", i.up},
                      {"running", i.running},
                      {"loopback", i.loopback}});
  } catch (const capture::CaptureError& e) {
    return http::send_json_error(res, 500, e.what());
  }
  const bool raw = dashboard::has_cap_net_raw();
  res.json(200, dump(Json{{"cap_net_raw", raw},
                          {"why_not", raw ? Json(nullptr) : Json(refused_without_cap_net_raw())},
                          {"max_rate", shared.options.max_rate},
                          {"interfaces", std::move(list)}}));
}

// The rate the page asked for: 1 to the server's most; nullopt (and `why`) otherwise.
std::optional<unsigned> parse_rate(const std::optional<std::string>& text, unsigned most,
                                   std::string& why) {
  if (!text) return most;
  unsigned long v = 0;
  bool digits = !text->empty() && text->size() <= 9;
  for (char c : *text) digits = digits && c >= '0' && c <= '9';
  if (digits) v = std::stoul(*text);
  if (!digits || v == 0 || v > most) {
    why = "rate=" + *text + " must be a whole number of packets a second from 1 to " +
          std::to_string(most) + " (duplex serve --capture-rate sets the most)";
    return std::nullopt;
  }
  return static_cast<unsigned>(v);
}

}  // namespace

void add_capture_routes(http::Router& router, CaptureWsOptions options) {
  auto shared = std::make_shared<Shared>(Shared{std::move(options), 0});
  router.add("GET", "/api/capture/interfaces",
             [shared](const http::Request& req, const http::Params&, http::Response& res) {
               if (!refuse_without_token(*shared, req, res)) interfaces(*shared, res);
             });
  router.add("GET", "/ws/capture",
             [shared](const http::Request& req, const http::Params&, http::Response& res) {
               if (refuse_without_token(*shared, req, res)) return;
               dashboard::Query query;
               if (!query.parse(req, res)) return;
               Request request;
               request.interface = query.get("iface").value_or("");
               request.filter = query.get("filter").value_or("");
               std::string why;
               const auto rate = parse_rate(query.get("rate"), shared->options.max_rate, why);
               request.rate = rate.value_or(1);
               auto session = std::make_shared<CaptureSession>(shared, std::move(request));
               websocket::ConnectionOptions ws_options;
               ws_options.session.max_message_size = 1024;
               websocket::accept_upgrade(
                   req, res, ws_options,
                   [session](websocket::Connection& c, websocket::Session::Event& ev) {
                     session->on_event(c, ev);
                   },
                   [session, why](const std::shared_ptr<websocket::Connection>& ws) {
                     if (!why.empty()) return session->refuse(ws, "rate", why);
                     session->open(ws);
                   });
             });
}

}  // namespace duplex::apps
