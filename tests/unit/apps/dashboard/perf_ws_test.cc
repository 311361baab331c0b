// apps/dashboard/perf_ws: the Perf page's parameters, checked and bounded before any test
// starts.
#include "duplex/apps/dashboard/perf_ws.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace duplex::apps {
namespace {

std::optional<PerfRequest> parse(const std::map<std::string, std::string>& values,
                                 std::string& why) {
  PerfWsOptions options;
  return parse_perf_request(
      [&](std::string_view name) -> std::optional<std::string> {
        const auto it = values.find(std::string(name));
        if (it == values.end()) return std::nullopt;
        return it->second;
      },
      options, why);
}

TEST(PerfRequest, DefaultsAreTenSecondsOfTcpOnPort5201) {
  std::string why;
  const auto r = parse({{"host", "127.0.0.1"}}, why);
  ASSERT_TRUE(r) << why;
  EXPECT_EQ(r->host, "127.0.0.1");
  EXPECT_EQ(r->port, 5201);
  EXPECT_EQ(r->params.protocol, perf::Protocol::kTcp);
  EXPECT_EQ(r->params.time, 10u);
  EXPECT_EQ(r->params.bandwidth, 0u);
  EXPECT_EQ(r->params.parallel, 1u);
  EXPECT_FALSE(r->params.reverse);
}

TEST(PerfRequest, EveryFieldIsRead) {
  std::string why;
  const auto r = parse({{"host", "::1"},
                        {"port", "5202"},
                        {"proto", "udp"},
                        {"time", "3"},
                        {"rate", "2.5M"},
                        {"reverse", "1"},
                        {"streams", "4"}},
                       why);
  ASSERT_TRUE(r) << why;
  EXPECT_EQ(r->port, 5202);
  EXPECT_EQ(r->params.protocol, perf::Protocol::kUdp);
  EXPECT_EQ(r->params.time, 3u);
  EXPECT_EQ(r->params.bandwidth, 2'500'000u);
  EXPECT_TRUE(r->params.reverse);
  EXPECT_EQ(r->params.parallel, 4u);
}

TEST(PerfRequest, UdpWithoutARateGetsIperf3sDefault) {
  std::string why;
  const auto r = parse({{"host", "h"}, {"proto", "udp"}}, why);
  ASSERT_TRUE(r) << why;
  EXPECT_EQ(r->params.bandwidth, perf::kDefaultUdpRate);
}

TEST(PerfRequest, AbsurdValuesAreRefusedWithOneLineNamingTheRange) {
  const std::map<std::string, std::string> bad[] = {{{"time", "0"}},
                                                    {{"time", "61"}},
                                                    {{"time", "1e9"}},
                                                    {{"rate", "11G"}},
                                                    {{"rate", "fast"}},
                                                    {{"rate", "-1"}},
                                                    {{"streams", "0"}},
                                                    {{"streams", "9"}},
                                                    {{"port", "0"}},
                                                    {{"port", "65536"}},
                                                    {{"proto", "sctp"}},
                                                    {{"reverse", "maybe"}},
                                                    {{"proto", "udp"}, {"rate", "0"}}};
  for (auto values : bad) {
    values["host"] = "127.0.0.1";
    std::string why;
    EXPECT_FALSE(parse(values, why)) << values.begin()->first;
    EXPECT_FALSE(why.empty());
    EXPECT_EQ(why.find('\n'), std::string::npos) << why;
  }
  std::string why;
  EXPECT_FALSE(parse({}, why));
  EXPECT_NE(why.find("choose a host"), std::string::npos) << why;
  EXPECT_FALSE(parse({{"host", "a b"}}, why));
  EXPECT_FALSE(parse({{"host", "x;rm"}}, why));
}

TEST(PerfRate, UnitsAreThousands) {
  EXPECT_EQ(parse_rate("0"), 0u);
  EXPECT_EQ(parse_rate("100"), 100u);
  EXPECT_EQ(parse_rate("10K"), 10'000u);
  EXPECT_EQ(parse_rate("100M"), 100'000'000u);
  EXPECT_EQ(parse_rate("1.5g"), 1'500'000'000u);
  EXPECT_FALSE(parse_rate(""));
  EXPECT_FALSE(parse_rate("M"));
  EXPECT_FALSE(parse_rate("10MB"));
  EXPECT_FALSE(parse_rate("5T"));
  EXPECT_FALSE(parse_rate("1e30"));
}

}  // namespace
}  // namespace duplex::apps
