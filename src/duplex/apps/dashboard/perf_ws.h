// Public. The dashboard's Perf page, server side: a `duplex perf` client test that the
// serve process runs (apps/perf), or one that a CLI run reports, streamed to the browser
// over WebSocket, one JSON message per interval (perf_live.h has their shapes).
//
//   GET  /ws/perf?host=H&port=5201&proto=tcp|udp&time=S&rate=R&reverse=1&streams=N
//        starts a test from this process against H (duplex perf -s or iperf3 -s), speaks
//        {"type":"started"}, one {"type":"interval"} a second, then {"type":"end"} and a
//        Close 1000. Closing the socket stops the test (CLIENT_TERMINATE).
//   GET  /ws/perf?watch=1
//        every run that CLI clients report: the current run's messages so far, then each
//        new one as it comes.
//   POST /api/perf/report   one message of perf_live.h as the body (what `duplex perf -c H
//        --report-to URL --token T` posts); 204, or 400 naming the problem.
//
// All three need the token, on loopback too (a test sends traffic from this host): 401
// without it. Bad parameters get {"type":"error","cause","message"} and a Close: a time of
// 1 to max_time seconds, a rate of 0 (TCP: unlimited) to max_rate bit/s per stream, 1 to
// max_streams streams; at most max_tests tests at once ("busy"). The host is resolved on
// the loop (getaddrinfo): give an address to keep the dashboard responsive.
//
// Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/apps/perf/perf_protocol.h"

namespace duplex::http {
class Router;
struct Request;
}  // namespace duplex::http

namespace duplex::apps {

struct PerfWsOptions {
  unsigned max_time = 60;                   // seconds
  std::uint64_t max_rate = 10'000'000'000;  // bit/s per stream
  unsigned max_streams = 8;
  unsigned max_tests = 1;  // run by this process at once
  std::size_t max_watchers = 16;
  std::function<bool(const http::Request&)> has_token;
};

// A test the page asked for, within the options' bounds.
struct PerfRequest {
  std::string host;
  std::uint16_t port = 5201;
  perf::TestParameters params;
};

// The parameters by name (query or form values; nullopt when absent), checked and bounded.
// nullopt and `why` (one line: the value, the range, the fix) when one is wrong.
std::optional<PerfRequest> parse_perf_request(
    const std::function<std::optional<std::string>(std::string_view)>& get,
    const PerfWsOptions& options, std::string& why);

// "100M" (x1000 per K, M, G), "0", "2.5G": bit/s. nullopt when not a rate.
std::optional<std::uint64_t> parse_rate(std::string_view text);

// Adds GET /ws/perf and POST /api/perf/report.
void add_perf_routes(http::Router& router, PerfWsOptions options);

}  // namespace duplex::apps
