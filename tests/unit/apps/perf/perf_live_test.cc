// apps/perf/perf_live: the Perf page's messages from a test's intervals and end.
#include "duplex/apps/perf/perf_live.h"

#include <gtest/gtest.h>

#include "duplex/apps/perf/perf_report_to.h"

namespace duplex::apps::perf {
namespace {

StreamSample tcp_sender(std::uint64_t bytes, std::uint64_t cwnd, std::uint32_t rtt_us) {
  StreamSample s;
  s.start = 1.0;
  s.end = 2.0;
  s.sender = true;
  s.bytes = bytes;
  s.tcp_info = true;
  s.retransmits = 2;
  s.snd_cwnd = cwnd;
  s.rtt = rtt_us;
  s.rttvar = rtt_us / 2;
  return s;
}

TEST(LiveInterval, TcpSendersAreSummedAndTheirRttAveraged) {
  const auto j = live_interval(
      "r", 1, {tcp_sender(1'000'000, 100'000, 1000), tcp_sender(500'000, 50'000, 3000)},
      Protocol::kTcp);
  EXPECT_EQ(j["type"], "interval");
  EXPECT_EQ(j["run"], "r");
  EXPECT_EQ(j["index"], 1);
  EXPECT_EQ(j["bytes"], 1'500'000u);
  EXPECT_DOUBLE_EQ(j["mbps"].get<double>(), 12.0);
  EXPECT_EQ(j["retransmits"], 4);
  EXPECT_EQ(j["cwnd"], 150'000u);
  EXPECT_DOUBLE_EQ(j["rtt_ms"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["rttvar_ms"].get<double>(), 1.0);
  EXPECT_FALSE(j.contains("loss_percent"));
}

TEST(LiveInterval, AReceiverHasNoTcpInfoSoNoneIsInvented) {
  StreamSample s;
  s.end = 1.0;
  s.bytes = 125'000;
  const auto j = live_interval("r", 0, {s}, Protocol::kTcp);
  EXPECT_DOUBLE_EQ(j["mbps"].get<double>(), 1.0);
  EXPECT_FALSE(j.contains("cwnd"));
  EXPECT_FALSE(j.contains("rtt_ms"));
  EXPECT_FALSE(j.contains("retransmits"));
}

TEST(LiveInterval, AUdpReceiverCarriesLossAndJitter) {
  StreamSample s;
  s.end = 1.0;
  s.bytes = 1000;
  s.packets = 200;
  s.lost = 5;
  s.jitter = 0.002;
  const auto j = live_interval("r", 0, {s}, Protocol::kUdp);
  EXPECT_EQ(j["lost"], 5);
  EXPECT_EQ(j["packets"], 200u);
  EXPECT_DOUBLE_EQ(j["loss_percent"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(j["jitter_ms"].get<double>(), 2.0);
}

TEST(LiveEnd, TakesIperf3sSumsAndSaysWhyItFailed) {
  nlohmann::json report = {
      {"end",
       {{"sum_sent",
         {{"bytes", 100}, {"bits_per_second", 8e6}, {"seconds", 2.0}, {"retransmits", 3}}},
        {"sum_received", {{"bytes", 90}, {"bits_per_second", 7e6}}}}}};
  auto j = live_end("r", report, true, "");
  EXPECT_TRUE(j["ok"]);
  EXPECT_EQ(j["sent_bytes"], 100);
  EXPECT_EQ(j["received_bytes"], 90);
  EXPECT_DOUBLE_EQ(j["sent_mbps"].get<double>(), 8.0);
  EXPECT_EQ(j["retransmits"], 3);
  j = live_end("r", nlohmann::json::object(), false, "connection refused");
  EXPECT_FALSE(j["ok"]);
  EXPECT_EQ(j["error"], "connection refused");
  EXPECT_FALSE(j.contains("sent_bytes"));
}

TEST(ReportUrl, TakesTheDashboardsUrl) {
  std::string why;
  auto u = parse_report_url("http://127.0.0.1:8080", why);
  ASSERT_TRUE(u) << why;
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  u = parse_report_url("http://[::1]:9000/", why);
  ASSERT_TRUE(u) << why;
  EXPECT_EQ(u->host, "[::1]");
  EXPECT_EQ(u->port, 9000);
  u = parse_report_url("http://serve.lan", why);
  ASSERT_TRUE(u) << why;
  EXPECT_EQ(u->port, 80);
  for (const char* bad : {"https://h:1", "ftp://x", "http://", "http://h:0", "http://h:70000",
                          "http://h:8080/api", "http://[::1", "127.0.0.1:8080"}) {
    EXPECT_FALSE(parse_report_url(bad, why)) << bad;
    EXPECT_NE(why.find("--report-to"), std::string::npos);
  }
}

}  // namespace
}  // namespace duplex::apps::perf
