// Public. `duplex perf --compare`: the same transfer over TCP, then over UDP at the rate
// that TCP delivered, and the two side by side (bytes sent and delivered, loss, reordering,
// goodput, retransmissions, delay). The seed's TCP/UDP table, measured.
//
// The table is built from the two runs' own reports (iperf3's JSON, as perf_client makes
// it), so every number in it is one that a run printed itself. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "duplex/apps/perf/perf_client.h"

namespace duplex::apps::perf {

// One protocol's column, read from one run's report.
struct CompareColumn {
  Protocol protocol = Protocol::kTcp;
  bool we_send = true;  // the client sent (no -R): the receiver's counts came in its results
  std::uint64_t target_bitrate = 0;  // per stream, as asked (-b); 0: unlimited
  std::uint32_t streams = 1;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_delivered = 0;  // what the receiving application read
  double seconds = 0;                 // the receiver's
  double goodput = 0;                 // delivered bits/s
  // UDP datagrams; TCP has none the application can count.
  std::uint64_t datagrams_sent = 0;
  std::int64_t datagrams_lost = 0;
  std::optional<std::uint64_t> reordered;   // UDP, known when we received (with -R)
  std::optional<std::int64_t> retransmits;  // TCP, from the sender's TCP_INFO
  // TCP_INFO's smoothed RTT over the intervals, microseconds (known when we sent).
  std::optional<std::uint32_t> rtt_mean, rtt_min, rtt_max;
  double jitter_ms = 0;  // UDP, RFC 3550

  std::uint64_t datagrams_delivered() const noexcept {
    return datagrams_lost > 0 && static_cast<std::uint64_t>(datagrams_lost) <= datagrams_sent
               ? datagrams_sent - static_cast<std::uint64_t>(datagrams_lost)
               : datagrams_sent;
  }
};

// Reads a finished run's report (start, intervals, end). Throws duplex::Error naming the
// missing key for a report without its end.
CompareColumn compare_column(const nlohmann::json& report);

// The UDP run's rate per stream: the TCP run's goodput shared over its streams (at least
// 1 bit/s, so that a stalled TCP run does not ask for an unlimited UDP one).
std::uint64_t udp_rate_for(const CompareColumn& tcp, std::uint32_t parallel);

// The table, one row per quantity, TCP and UDP in two columns, with the notes that say
// what "n/a" and TCP's zero loss mean.
std::string compare_text(const CompareColumn& tcp, const CompareColumn& udp);
// {"tcp": {...}, "udp": {...}}: the same quantities, null where the table says n/a.
nlohmann::json compare_json(const CompareColumn& tcp, const CompareColumn& udp);

// Runs the two tests one after the other against one server. `options.params` is the TCP
// test; the UDP test copies it with protocol UDP, the rate from udp_rate_for and the
// datagram length of -l only when it fits a datagram.
class Compare {
 public:
  Compare(EventLoop* loop, ClientOptions options);
  ~Compare();
  Compare(const Compare&) = delete;
  Compare& operator=(const Compare&) = delete;

  // Each run's own text (intervals, totals), a heading before each, then the table.
  void on_text(std::function<void(const std::string&)> cb) { text_cb_ = std::move(cb); }
  // With options.json: one document {"tcp": report, "udp": report, "compare": {...}}.
  void on_json(std::function<void(const nlohmann::json&)> cb) { json_cb_ = std::move(cb); }
  void on_finished(std::function<void(bool ok, const std::string& why)> cb) {
    finished_cb_ = std::move(cb);
  }

  void start();
  void terminate();

  const nlohmann::json& tcp_report() const noexcept { return tcp_report_; }
  const nlohmann::json& udp_report() const noexcept { return udp_report_; }

 private:
  void run(Protocol protocol);
  void run_done(bool ok, const std::string& why);
  void finish(bool ok, const std::string& why);
  void output(const std::string& text);

  EventLoop* loop_;
  ClientOptions options_;
  std::unique_ptr<Client> client_;
  Protocol running_ = Protocol::kTcp;
  Clock::time_point retry_until_{};
  TimerId retry_timer_;
  bool done_ = false;
  std::uint64_t udp_rate_ = 0;
  CompareColumn tcp_;
  nlohmann::json tcp_report_, udp_report_;
  std::function<void(const std::string&)> text_cb_;
  std::function<void(const nlohmann::json&)> json_cb_;
  std::function<void(bool, const std::string&)> finished_cb_;
};

}  // namespace duplex::apps::perf
