// apps/perf: the client and server state machines against each other on one loop, over
// loopback: each test sends a byte count (-n), not a time, so it ends as soon as the bytes
// are through; a guard timer bounds every run.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "duplex/apps/perf/perf_client.h"
#include "duplex/apps/perf/perf_server.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps::perf {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  bool client_ok = false;
  std::string why;
  nlohmann::json client_doc;
  nlohmann::json server_doc;
  std::vector<std::string> server_errors;
  bool server_ok = false;
};

Outcome run_test(TestParameters params) {
  EventLoop loop;
  ServerOptions so;
  so.listen = inet::Endpoint::parse("127.0.0.1:0");
  so.interval = 0;
  so.json = true;
  Server server(&loop, so);
  Outcome run;
  bool client_done = false, server_done = false;
  auto maybe_quit = [&] {
    if (client_done && server_done) loop.quit();
  };
  server.on_json([&](const nlohmann::json& doc) { run.server_doc = doc; });
  server.on_error([&](const std::string& why) { run.server_errors.push_back(why); });
  server.on_test_done([&](bool ok) {
    run.server_ok = ok;
    server_done = true;
    maybe_quit();
  });
  ClientOptions co;
  co.servers = {server.listen_endpoint()};
  co.host = "127.0.0.1";
  co.params = params;
  co.interval = 0;
  co.json = true;
  Client client(&loop, co);
  client.on_json([&](const nlohmann::json& doc) { run.client_doc = doc; });
  client.on_finished([&](bool ok, const std::string& why) {
    run.client_ok = ok;
    run.why = why;
    client_done = true;
    if (!ok) server_done = true;  // the server may still wait for its deadline
    maybe_quit();
  });
  loop.run_after(20s, [&] { loop.quit(); });
  client.start();
  loop.loop();
  return run;
}

TestParameters bytes_test(Protocol protocol, std::uint64_t bytes) {
  TestParameters p;
  p.protocol = protocol;
  p.time = 0;
  p.num = bytes;
  p.client_version = "3.12";
  return p;
}

TEST(PerfLoopback, TcpBytesArriveAndBothEndsReportTheSameTotals) {
  const Outcome run = run_test(bytes_test(Protocol::kTcp, 8 << 20));
  ASSERT_TRUE(run.client_ok) << run.why;
  EXPECT_TRUE(run.server_ok);
  EXPECT_TRUE(run.server_errors.empty());
  const auto& c = run.client_doc["end"];
  const auto& s = run.server_doc["end"];
  EXPECT_GE(c["sum_sent"]["bytes"], 8u << 20);
  EXPECT_EQ(c["sum_received"]["bytes"], s["sum_received"]["bytes"]);
  EXPECT_EQ(c["sum_sent"]["bytes"], s["sum_sent"]["bytes"]);
  EXPECT_EQ(run.client_doc["start"]["cookie"], run.server_doc["start"]["cookie"]);
  EXPECT_EQ(run.client_doc["start"]["test_start"]["protocol"], "TCP");
}

TEST(PerfLoopback, ParallelStreamsAreNumberedAsIperf3Does) {
  TestParameters p = bytes_test(Protocol::kTcp, 4 << 20);
  p.parallel = 3;
  const Outcome run = run_test(p);
  ASSERT_TRUE(run.client_ok) << run.why;
  const auto& streams = run.server_doc["end"]["streams"];
  ASSERT_EQ(streams.size(), 3u);
  EXPECT_EQ(run.client_doc["end"]["streams"].size(), 3u);
  EXPECT_EQ(run.client_doc["end"]["sum_received"]["bytes"],
            run.server_doc["end"]["sum_received"]["bytes"]);
}

TEST(PerfLoopback, UdpDatagramsAreCountedWithoutLoss) {
  TestParameters p = bytes_test(Protocol::kUdp, 1200 * 500);
  p.len = 1200;
  p.bandwidth = 50'000'000;
  const Outcome run = run_test(p);
  ASSERT_TRUE(run.client_ok) << run.why;
  const auto& received = run.client_doc["end"]["sum_received"];
  EXPECT_EQ(received["packets"], 500);
  EXPECT_EQ(received["lost_packets"], 0);
  EXPECT_EQ(received["bytes"], 1200 * 500);
  EXPECT_EQ(run.server_doc["end"]["streams"][0]["udp"]["out_of_order"], 0);
}

TEST(PerfLoopback, BadParametersEndTheTestWithOneLine) {
  TestParameters p = bytes_test(Protocol::kTcp, 1 << 20);
  p.parallel = 500;  // past iperf3's 128
  const Outcome run = run_test(p);
  EXPECT_FALSE(run.client_ok);
  ASSERT_EQ(run.server_errors.size(), 1u);
  EXPECT_NE(run.server_errors[0].find("parameter 'parallel' 500 is out of range 1..128"),
            std::string::npos)
      << run.server_errors[0];
}

}  // namespace
}  // namespace duplex::apps::perf
