// apps/perf: `--compare`'s table from the runs' reports (built with perf_report's own
// start_json/end_json, so the test follows the report's real shape), and the two runs
// against a Server on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "duplex/apps/perf/perf_compare.h"
#include "duplex/apps/perf/perf_server.h"
#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps::perf {
namespace {

using namespace std::chrono_literals;

nlohmann::json report(Protocol protocol, bool reverse, const std::vector<StreamEnd>& streams) {
  StartInfo info;
  info.params.protocol = protocol;
  info.params.reverse = reverse;
  return {{"start", start_json(info)},
          {"end", end_json(streams, protocol, !reverse, TestResults{}, TestResults{})}};
}

StreamEnd tcp_sender(std::uint64_t sent, std::uint64_t received, std::int64_t retransmits,
                     std::uint32_t rtt_min, std::uint32_t rtt_max) {
  StreamEnd e;
  e.local.end = 2.0;
  e.local.sender = true;
  e.local.bytes = sent;
  e.local.tcp_info = true;
  e.local.retransmits = retransmits;
  e.tcp.min_rtt = rtt_min;
  e.tcp.max_rtt = rtt_max;
  e.tcp.rtt_sum = rtt_min + rtt_max;
  e.tcp.rtt_samples = 2;
  e.remote.bytes = received;
  e.remote.start_time = 0;
  e.remote.end_time = 2.0;
  return e;
}

TEST(PerfCompare, TcpColumnTakesDeliveredBytesRetransmitsAndRttFromTheReport) {
  const CompareColumn c =
      compare_column(report(Protocol::kTcp, false, {tcp_sender(1000, 900, 7, 100, 300)}));
  EXPECT_EQ(c.protocol, Protocol::kTcp);
  EXPECT_EQ(c.bytes_sent, 1000u);
  EXPECT_EQ(c.bytes_delivered, 900u);
  EXPECT_DOUBLE_EQ(c.goodput, 900 * 8 / 2.0);
  ASSERT_TRUE(c.retransmits);
  EXPECT_EQ(*c.retransmits, 7);
  ASSERT_TRUE(c.rtt_mean);
  EXPECT_EQ(*c.rtt_mean, 200u);
  EXPECT_EQ(*c.rtt_min, 100u);
  EXPECT_EQ(*c.rtt_max, 300u);
}

TEST(PerfCompare, UdpColumnCountsLostDatagramsAndReorderingOnlyWhenWeReceived) {
  StreamEnd e;
  e.local.end = 2.0;
  e.local.bytes = 98 * 1000;  // we received (reverse): our counts
  e.local.lost = 2;
  e.local.out_of_order = 3;
  e.local.jitter = 0.0015;
  e.remote.bytes = 100 * 1000;
  e.remote.packets = 100;
  e.remote.end_time = 2.0;
  const CompareColumn received = compare_column(report(Protocol::kUdp, true, {e}));
  EXPECT_EQ(received.datagrams_sent, 100u);
  EXPECT_EQ(received.datagrams_lost, 2);
  EXPECT_EQ(received.datagrams_delivered(), 98u);
  ASSERT_TRUE(received.reordered);
  EXPECT_EQ(*received.reordered, 3u);
  EXPECT_NEAR(received.jitter_ms, 1.5, 1e-9);
  EXPECT_EQ(received.bytes_delivered, 98u * 1000);

  e.local.packets = 100;  // now we sent: the server's results say what arrived
  e.local.bytes = 100 * 1000;
  e.remote.bytes = 98 * 1000;
  e.remote.errors = 2;
  const CompareColumn sent = compare_column(report(Protocol::kUdp, false, {e}));
  EXPECT_EQ(sent.datagrams_lost, 2);
  EXPECT_FALSE(sent.reordered);  // iperf3's results do not carry it
  EXPECT_EQ(sent.bytes_sent, 100u * 1000);
}

TEST(PerfCompare, AReportWithoutItsEndNamesWhatIsMissing) {
  nlohmann::json broken = report(Protocol::kTcp, false, {tcp_sender(1, 1, 0, 1, 1)});
  broken.erase("end");
  try {
    compare_column(broken);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"end\""), std::string::npos) << e.what();
  }
}

TEST(PerfCompare, UdpRateIsTcpGoodputSharedOverTheStreams) {
  CompareColumn tcp;
  tcp.goodput = 9.0e9;
  EXPECT_EQ(udp_rate_for(tcp, 1), 9'000'000'000u);
  EXPECT_EQ(udp_rate_for(tcp, 3), 3'000'000'000u);
  tcp.goodput = 0;
  EXPECT_EQ(udp_rate_for(tcp, 1), 1u);  // never 0, which would mean unlimited
}

TEST(PerfCompare, TableShowsBothColumnsAndSaysWhatIsNotMeasured) {
  const CompareColumn tcp =
      compare_column(report(Protocol::kTcp, false, {tcp_sender(1000, 900, 7, 100, 300)}));
  CompareColumn udp;
  udp.protocol = Protocol::kUdp;
  udp.datagrams_sent = 200;
  udp.datagrams_lost = 4;
  const std::string text = compare_text(tcp, udp);
  EXPECT_NE(text.find("retransmissions        7"), std::string::npos) << text;
  EXPECT_NE(text.find("4 datagrams (2%)"), std::string::npos) << text;
  EXPECT_NE(text.find("0.20 ms (0.10 ms to 0.30 ms)"), std::string::npos) << text;
  EXPECT_NE(text.find("n/a (needs one clock at both ends)"), std::string::npos) << text;
  const nlohmann::json j = compare_json(tcp, udp);
  EXPECT_EQ(j["udp"]["datagrams_delivered"], 196);
  EXPECT_EQ(j["tcp"]["retransmits"], 7);
  EXPECT_TRUE(j["udp"]["one_way_delay_ms"].is_null());
  EXPECT_TRUE(j["udp"]["reordered"].is_null());
}

TEST(PerfCompare, RunsTcpThenUdpAtTcpsGoodputAgainstOneServer) {
  EventLoop loop;
  ServerOptions so;
  so.listen = inet::Endpoint::parse("127.0.0.1:0");
  so.interval = 0;
  so.json = true;
  Server server(&loop, so);
  ClientOptions co;
  co.servers = {server.listen_endpoint()};
  co.host = "127.0.0.1";
  co.params.time = 1;
  co.params.bandwidth = 200'000'000;  // TCP paced, so that UDP at its rate loses little
  co.params.client_version = "3.12";
  co.interval = 0;
  co.json = true;
  Compare compare(&loop, co);
  nlohmann::json doc;
  bool ok = false;
  std::string why;
  compare.on_json([&](const nlohmann::json& d) { doc = d; });
  compare.on_finished([&](bool good, const std::string& reason) {
    ok = good;
    why = reason;
    loop.quit();
  });
  loop.run_after(20s, [&] { loop.quit(); });
  compare.start();
  loop.loop();
  ASSERT_TRUE(ok) << why;
  const double tcp_goodput = doc["compare"]["tcp"]["goodput_bits_per_second"];
  EXPECT_EQ(doc["tcp"]["start"]["test_start"]["protocol"], "TCP");
  EXPECT_EQ(doc["udp"]["start"]["test_start"]["protocol"], "UDP");
  EXPECT_EQ(doc["udp"]["start"]["test_start"]["target_bitrate"].get<double>(),
            static_cast<double>(std::llround(tcp_goodput)));
  EXPECT_EQ(doc["compare"]["udp"]["target_bitrate"], doc["udp"]["start"]["target_bitrate"]);
  const auto& udp = doc["compare"]["udp"];
  EXPECT_EQ(
      udp["datagrams_delivered"].get<std::int64_t>() + udp["datagrams_lost"].get<std::int64_t>(),
      udp["datagrams_sent"].get<std::int64_t>());
  EXPECT_EQ(udp["bytes_sent"], doc["udp"]["end"]["sum_sent"]["bytes"]);
}

}  // namespace
}  // namespace duplex::apps::perf
