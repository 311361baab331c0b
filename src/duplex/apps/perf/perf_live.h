// Public. A perf test as the dashboard's Perf page draws it: one small JSON message per
// event, the same whether the serve process runs the test (/ws/perf) or a CLI run reports
// it (`duplex perf -c HOST --report-to URL`, POST /api/perf/report):
//   {"type":"started", "run", "source" ("serve"|"cli"), "host", "port", "protocol"
//    ("TCP"|"UDP"), "reverse", "streams", "time", "rate"}
//   {"type":"interval", "run", "index" (0, 1...), "start", "end" (s since the start),
//    "bytes", "mbps", "omitted", and, where the kernel or the receiver measured them,
//    "retransmits", "cwnd" (bytes, summed over streams), "rtt_ms" and "rttvar_ms" (mean
//    over streams) for a TCP sender; "lost", "packets", "loss_percent", "jitter_ms" for a
//    UDP receiver (the client receives with -R; otherwise loss is known at the end only)}
//   {"type":"end", "run", "ok", "error" (when not ok), "sent_bytes", "received_bytes",
//    "sent_mbps", "received_mbps", "retransmits", "lost", "packets", "loss_percent",
//    "jitter_ms", "seconds"} (the numbers from iperf3's "end" document when it came)
// Absent values are left out, never 0, so a chart shows a gap rather than a lie.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "duplex/apps/perf/perf_protocol.h"
#include "duplex/apps/perf/perf_report.h"

namespace duplex::apps::perf {

struct LiveTest {
  std::string run;     // an id that tells concurrent runs apart
  std::string source;  // "serve" or "cli"
  std::string host;
  std::uint16_t port = 5201;
  TestParameters params;
};

nlohmann::json live_started(const LiveTest& test);
nlohmann::json live_interval(const std::string& run, int index, const Interval& interval,
                             Protocol protocol);
// From the client's report (iperf3's document: "end" may be empty when the test failed).
nlohmann::json live_end(const std::string& run, const nlohmann::json& report, bool ok,
                        const std::string& why);

}  // namespace duplex::apps::perf
