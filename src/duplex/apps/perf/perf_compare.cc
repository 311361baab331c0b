#include "duplex/apps/perf/perf_compare.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps::perf {
namespace {

const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key))
    throw Error(std::string("the run's report has no \"") + key + "\": the test did not finish");
  return j.at(key);
}

template <typename T>
T number_or(const nlohmann::json& j, const char* key, T fallback) {
  return j.is_object() && j.contains(key) && j.at(key).is_number() ? j.at(key).get<T>() : fallback;
}

std::string row(const std::string& name, const std::string& tcp, const std::string& udp) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-22s %-31s %s\n", name.c_str(), tcp.c_str(), udp.c_str());
  return buf;
}

std::string microseconds_text(std::uint32_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f ms", us / 1000.0);
  return buf;
}

std::string percent_text(std::int64_t part, std::uint64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%%",
                whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json column_json(const CompareColumn& c) {
  const bool udp = c.protocol == Protocol::kUdp;
  nlohmann::json j = {{"target_bitrate", c.target_bitrate},
                      {"streams", c.streams},
                      {"bytes_sent", c.bytes_sent},
                      {"bytes_delivered", c.bytes_delivered},
                      {"seconds", c.seconds},
                      {"goodput_bits_per_second", c.goodput},
                      {"reordered", or_null(c.reordered)},
                      {"retransmits", or_null(c.retransmits)},
                      {"rtt_mean_us", or_null(c.rtt_mean)},
                      {"rtt_min_us", or_null(c.rtt_min)},
                      {"rtt_max_us", or_null(c.rtt_max)},
                      {"one_way_delay_ms", nullptr}};
  if (udp) {
    j["datagrams_sent"] = c.datagrams_sent;
    j["datagrams_lost"] = c.datagrams_lost;
    j["datagrams_delivered"] = c.datagrams_delivered();
    j["jitter_ms"] = c.jitter_ms;
  } else {
    // TCP resends what the path lost: the application loses nothing and reads in order.
    j["datagrams_sent"] = nullptr;
    j["datagrams_lost"] = 0;
    j["datagrams_delivered"] = nullptr;
    j["reordered"] = 0;
    j["jitter_ms"] = nullptr;
  }
  return j;
}

}  // namespace

CompareColumn compare_column(const nlohmann::json& report) {
  CompareColumn c;
  const nlohmann::json& test = member(member(report, "start"), "test_start");
  c.protocol =
      member(test, "protocol").get<std::string>() == "UDP" ? Protocol::kUdp : Protocol::kTcp;
  c.we_send = number_or<int>(test, "reverse", 0) == 0;
  c.target_bitrate = number_or<std::uint64_t>(test, "target_bitrate", 0);
  c.streams = number_or<std::uint32_t>(test, "num_streams", 1);
  const nlohmann::json& end = member(report, "end");
  const nlohmann::json& sent = member(end, "sum_sent");
  const nlohmann::json& received = member(end, "sum_received");
  c.bytes_sent = member(sent, "bytes").get<std::uint64_t>();
  c.bytes_delivered = member(received, "bytes").get<std::uint64_t>();
  c.seconds = number_or<double>(received, "seconds", 0);
  c.goodput = number_or<double>(received, "bits_per_second", 0);
  const nlohmann::json& streams = member(end, "streams");
  if (c.protocol == Protocol::kUdp) {
    const nlohmann::json& sum = member(end, "sum");
    c.datagrams_sent = number_or<std::uint64_t>(sum, "packets", 0);
    c.datagrams_lost = number_or<std::int64_t>(sum, "lost_packets", 0);
    c.jitter_ms = number_or<double>(sum, "jitter_ms", 0);
    // iperf3's results carry no reordering count: only a receiving client has it.
    if (!c.we_send) {
      std::uint64_t reordered = 0;
      for (const auto& s : streams)
        reordered += number_or<std::uint64_t>(s.value("udp", nlohmann::json()), "out_of_order", 0);
      c.reordered = reordered;
    }
    return c;
  }
  if (sent.contains("retransmits")) c.retransmits = sent.at("retransmits").get<std::int64_t>();
  std::uint64_t mean_sum = 0, with_rtt = 0;
  for (const auto& s : streams) {
    const nlohmann::json sender = s.value("sender", nlohmann::json());
    // The sum leaves out a remote sender's zero; its stream entry keeps it.
    if (!sent.contains("retransmits") && sender.is_object() && sender.contains("retransmits"))
      c.retransmits = c.retransmits.value_or(0) + sender.at("retransmits").get<std::int64_t>();
    if (!sender.is_object() || !sender.contains("mean_rtt")) continue;
    const auto mean = sender.at("mean_rtt").get<std::uint32_t>();
    const auto lo = number_or<std::uint32_t>(sender, "min_rtt", mean);
    const auto hi = number_or<std::uint32_t>(sender, "max_rtt", mean);
    mean_sum += mean;
    ++with_rtt;
    c.rtt_min = c.rtt_min ? std::min(*c.rtt_min, lo) : lo;
    c.rtt_max = c.rtt_max ? std::max(*c.rtt_max, hi) : hi;
  }
  if (with_rtt > 0) c.rtt_mean = static_cast<std::uint32_t>(mean_sum / with_rtt);
  return c;
}

std::uint64_t udp_rate_for(const CompareColumn& tcp, std::uint32_t parallel) {
  const double per_stream = tcp.goodput / std::max<std::uint32_t>(parallel, 1);
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(per_stream)));
}

std::string compare_text(const CompareColumn& tcp, const CompareColumn& udp) {
  std::string out = row("", "TCP", "UDP at TCP's goodput");
  const auto asked = [](const CompareColumn& c) {
    return c.target_bitrate == 0 ? std::string("unlimited")
                                 : format_bits(static_cast<double>(c.target_bitrate)) +
                                       (c.streams > 1 ? " x " + std::to_string(c.streams) : "");
  };
  out += row("rate asked (-b)", asked(tcp), asked(udp));
  out += row("bytes sent", format_bytes(static_cast<double>(tcp.bytes_sent)),
             format_bytes(static_cast<double>(udp.bytes_sent)));
  out += row("bytes delivered", format_bytes(static_cast<double>(tcp.bytes_delivered)),
             format_bytes(static_cast<double>(udp.bytes_delivered)));
  out += row("datagrams sent", "n/a (a byte stream)", std::to_string(udp.datagrams_sent));
  out += row("datagrams delivered", "n/a", std::to_string(udp.datagrams_delivered()));
  out += row("lost", "0 (resent by TCP)",
             std::to_string(udp.datagrams_lost) + " datagrams (" +
                 percent_text(udp.datagrams_lost, udp.datagrams_sent) + ")");
  out += row("reordered", "0 (TCP delivers in order)",
             udp.reordered ? std::to_string(*udp.reordered) + " datagrams"
                           : "n/a (counted by the server; use -R)");
  out += row("goodput", format_bits(tcp.goodput), format_bits(udp.goodput));
  out += row("retransmissions", tcp.retransmits ? std::to_string(*tcp.retransmits) : "n/a",
             "none (UDP never resends)");
  const std::string rtt = tcp.rtt_mean ? microseconds_text(*tcp.rtt_mean) + " (" +
                                             microseconds_text(*tcp.rtt_min) + " to " +
                                             microseconds_text(*tcp.rtt_max) + ")"
                                       : "n/a (the sender's, with -R)";
  out += row("delay: RTT (TCP_INFO)", rtt, "n/a (no acknowledgements)");
  char jitter[32];
  std::snprintf(jitter, sizeof jitter, "%.3f ms", udp.jitter_ms);
  out += row("delay: jitter", "n/a", jitter);
  out += row("delay: one-way", "n/a", "n/a (needs one clock at both ends)");
  out += "TCP's bytes sent minus delivered were still in flight when the receiver stopped.\n";
  return out;
}

nlohmann::json compare_json(const CompareColumn& tcp, const CompareColumn& udp) {
  return {{"tcp", column_json(tcp)}, {"udp", column_json(udp)}};
}

Compare::Compare(EventLoop* loop, ClientOptions options)
    : loop_(loop), options_(std::move(options)) {}

Compare::~Compare() {
  if (retry_timer_) loop_->cancel(retry_timer_);
}

void Compare::output(const std::string& text) {
  if (!options_.json && text_cb_) text_cb_(text);
}

void Compare::start() {
  output("TCP:\n");
  run(Protocol::kTcp);
}

void Compare::run(Protocol protocol) {
  running_ = protocol;
  ClientOptions o = options_;
  if (protocol == Protocol::kUdp) {
    o.params.protocol = Protocol::kUdp;
    o.params.bandwidth = udp_rate_;
    if (o.params.len > 65507 - 16) o.params.len = 0;  // a TCP write size: the path's MSS
    o.params.congestion.clear();
    o.params.nodelay = false;
  }
  client_ = std::make_unique<Client>(loop_, o);
  client_->on_text([this](const std::string& text) { output(text); });
  client_->on_finished([this](bool ok, const std::string& why) {
    // Not under the client's own callback: run_done may replace it.
    loop_->queue_in_loop([this, ok, why] { run_done(ok, why); });
  });
  client_->start();
}

void Compare::run_done(bool ok, const std::string& why) {
  if (done_) return;
  // The server may still be closing the first test when the second one asks: iperf3 -s
  // answers ACCESS_DENIED, refuses the connection while it reopens its listener, or resets
  // one that reached the listener it was closing (before saying a word). Ask again every
  // 100 ms, for up to 3 s after the TCP run.
  if (!ok && running_ == Protocol::kUdp && (client_->denied() || !client_->server_spoke()) &&
      Clock::now() < retry_until_) {
    retry_timer_ = loop_->run_after(std::chrono::milliseconds(100), [this] {
      retry_timer_ = TimerId{};
      run(Protocol::kUdp);
    });
    return;
  }
  const char* name = running_ == Protocol::kTcp ? "TCP" : "UDP";
  if (!ok) return finish(false, std::string(name) + " run: " + why);
  try {
    if (running_ == Protocol::kTcp) {
      tcp_report_ = client_->report();
      tcp_ = compare_column(tcp_report_);
      udp_rate_ = udp_rate_for(tcp_, options_.params.parallel);
      retry_until_ = Clock::now() + std::chrono::seconds(3);
      output("\nUDP at TCP's goodput, " + format_bits(static_cast<double>(udp_rate_)) +
             (options_.params.parallel > 1 ? " per stream" : "") + ":\n");
      return run(Protocol::kUdp);
    }
    udp_report_ = client_->report();
    const CompareColumn udp = compare_column(udp_report_);
    output("\nTCP against UDP:\n" + compare_text(tcp_, udp));
    if (options_.json && json_cb_)
      json_cb_({{"tcp", tcp_report_}, {"udp", udp_report_}, {"compare", compare_json(tcp_, udp)}});
    finish(true, "");
  } catch (const Error& e) {
    finish(false, std::string(name) + " run: " + e.what());
  }
}

void Compare::terminate() {
  if (done_) return;
  if (retry_timer_) {
    loop_->cancel(retry_timer_);
    retry_timer_ = TimerId{};
    return finish(false, "interrupted");
  }
  if (client_) client_->terminate();
}

void Compare::finish(bool ok, const std::string& why) {
  if (done_) return;
  done_ = true;
  if (finished_cb_) finished_cb_(ok, why);
}

}  // namespace duplex::apps::perf
