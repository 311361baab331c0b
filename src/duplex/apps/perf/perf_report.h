// Public. What a perf test measured, and how it is shown: iperf3's JSON (start, intervals,
// end: the same keys, so that tools that parse iperf3 read ours) and its text table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "duplex/apps/perf/perf_protocol.h"

namespace duplex::apps::perf {

// One stream over one interval (or, for the end, over the whole test).
struct StreamSample {
  int id = 0;
  int socket = 0;    // our fd, as iperf3 names streams by theirs
  double start = 0;  // seconds since the test started
  double end = 0;
  bool sender = false;
  bool omitted = false;
  std::uint64_t bytes = 0;
  // A TCP sender's TCP_INFO at the interval's end.
  bool tcp_info = false;
  std::int64_t retransmits = 0;  // in this interval
  std::uint64_t snd_cwnd = 0;    // bytes
  std::uint64_t snd_wnd = 0;     // the peer's receive window, bytes
  std::uint32_t rtt = 0;         // microseconds
  std::uint32_t rttvar = 0;
  std::uint32_t pmtu = 0;
  std::uint64_t delivery_rate = 0;  // bits/s
  // UDP: datagrams sent (sender) or expected (receiver: sequence numbers spanned).
  std::uint64_t packets = 0;
  std::int64_t lost = 0;
  std::uint64_t out_of_order = 0;
  double jitter = 0;  // seconds

  double seconds() const noexcept { return end - start; }
  double bits_per_second() const noexcept;
};

using Interval = std::vector<StreamSample>;

// A TCP sender's TCP_INFO over the whole test, for the end's sender entry.
struct TcpSummary {
  std::uint64_t max_snd_cwnd = 0;
  std::uint64_t max_snd_wnd = 0;
  std::uint32_t max_rtt = 0;
  std::uint32_t min_rtt = 0;
  std::uint64_t rtt_sum = 0;
  std::uint64_t rtt_samples = 0;
  void add(const StreamSample& s) noexcept;
};

// One stream at the end: what this side measured, and what the peer's results say.
struct StreamEnd {
  StreamSample local;  // start..end of the whole test
  TcpSummary tcp;
  StreamResult remote;
};

// The test's description in "start": what both sides agreed on.
struct StartInfo {
  std::string version;  // "duplex 0.1.0"
  std::string system_info;
  std::string cookie;
  bool server = false;
  std::string host;  // connecting_to (client) / accepted_connection (server)
  std::uint16_t port = 0;
  struct Connected {
    int socket;
    std::string local_host;
    std::uint16_t local_port;
    std::string remote_host;
    std::uint16_t remote_port;
  };
  std::vector<Connected> connected;
  TestParameters params;
  std::uint32_t block_size = 0;
  std::uint32_t tcp_mss_default = 0;
  int sndbuf_actual = 0;
  int rcvbuf_actual = 0;
};

nlohmann::json start_json(const StartInfo& info);
// {"streams": [...], "sum": {...}}.
nlohmann::json interval_json(const Interval& interval, Protocol protocol);
// "end" from this side's view: we_send says whether this side was the sender.
nlohmann::json end_json(const std::vector<StreamEnd>& streams, Protocol protocol, bool we_send,
                        const TestResults& local, const TestResults& remote);

// iperf3's text: "[  5]   0.00-1.00   sec   982 MBytes  8.23 Gbits/sec    0    767 KBytes".
std::string interval_header(Protocol protocol, bool sender);
std::string interval_text(const Interval& interval, Protocol protocol);
std::string end_text(const std::vector<StreamEnd>& streams, Protocol protocol, bool we_send);

// "982 MBytes", "8.23 Gbits/sec": iperf3's adaptive units (bytes by 1024, bits by 1000).
std::string format_bytes(double bytes);
std::string format_bits(double bits_per_second);

}  // namespace duplex::apps::perf
