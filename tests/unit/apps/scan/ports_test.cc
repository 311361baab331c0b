// apps/scan: nmap's -p syntax, --top N, and service names from services(5) text.
#include <gtest/gtest.h>

#include "duplex/apps/scan/ports.h"
#include "duplex/apps/scan/rtt.h"
#include "duplex/apps/scan/services.h"
#include "duplex/base/error.h"

namespace duplex::scan {
namespace {

using namespace std::chrono_literals;

std::string error_of(std::string_view list) {
  try {
    parse_ports(list);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(ScanPorts, ListsAndRangesInTheOrderWrittenWithoutDuplicates) {
  EXPECT_EQ(parse_ports("443,22,80-82,22"), (std::vector<std::uint16_t>{443, 22, 80, 81, 82}));
}

TEST(ScanPorts, OpenEndedRangesAndTheDashAreNmapsOwn) {
  EXPECT_EQ(parse_ports("-").size(), 65535u);
  EXPECT_EQ(parse_ports("-").front(), 1);
  EXPECT_EQ(parse_ports("-3"), (std::vector<std::uint16_t>{1, 2, 3}));
  EXPECT_EQ(parse_ports("65534-"), (std::vector<std::uint16_t>{65534, 65535}));
}

TEST(ScanPorts, BadPortsSayTheFix) {
  EXPECT_NE(error_of("0").find("port 0 cannot be scanned"), std::string::npos);
  EXPECT_NE(error_of("0-10").find("port 0"), std::string::npos);
  EXPECT_NE(error_of("65536").find("above 65535"), std::string::npos);
  EXPECT_NE(error_of("99999999999999999999").find("above 65535"), std::string::npos);
  EXPECT_NE(error_of("90-80").find("backwards range: write 80-90"), std::string::npos);
  EXPECT_NE(error_of("http").find("not a port"), std::string::npos);
  EXPECT_NE(error_of("1-2-3").find("not a port"), std::string::npos);
  EXPECT_NE(error_of("22,,80").find("empty item"), std::string::npos);
  EXPECT_NE(error_of("").find("empty port list"), std::string::npos);
}

TEST(ScanPorts, TopPortsAreNmapsMostFrequentFirst) {
  EXPECT_EQ(top_ports(Protocol::tcp, 5), (std::vector<std::uint16_t>{80, 23, 443, 21, 22}));
  EXPECT_EQ(top_ports(Protocol::udp, 3), (std::vector<std::uint16_t>{631, 161, 137}));
  EXPECT_EQ(top_ports_available(Protocol::tcp), 1000u);
  const auto all = top_ports(Protocol::tcp, 1000);
  EXPECT_EQ(std::set<std::uint16_t>(all.begin(), all.end()).size(), 1000u);
  EXPECT_THROW(top_ports(Protocol::tcp, 0), ParseError);
  EXPECT_THROW(top_ports(Protocol::tcp, 1001), ParseError);
}

TEST(ScanServices, NamesComeFromServicesTextFirstLineWins) {
  const auto s = Services::parse(
      "# comment\n"
      "ssh\t\t22/tcp\t\t\t# SSH Remote Login Protocol\n"
      "domain\t\t53/tcp\n"
      "domain\t\t53/udp\n"
      "http\t\t80/tcp\t\twww\n"
      "www\t\t80/tcp\n"
      "broken\n"
      "bad\t99999/tcp\n"
      "sctp-only\t9/sctp\n");
  EXPECT_EQ(s.name(22, Protocol::tcp), "ssh");
  EXPECT_EQ(s.name(22, Protocol::udp), "");
  EXPECT_EQ(s.name(53, Protocol::udp), "domain");
  EXPECT_EQ(s.name(80, Protocol::tcp), "http");
  EXPECT_EQ(s.size(), 4u);
}

TEST(ScanServices, DebianNetbaseIsRead) {
  const auto s = Services::load();
  if (s.size() == 0) GTEST_SKIP() << "no /etc/services (netbase)";
  EXPECT_EQ(s.name(22, Protocol::tcp), "ssh");
  EXPECT_EQ(s.name(443, Protocol::tcp), "https");
}

TEST(ScanRtt, TheTimeoutIsTheInitialOneUntilAnAnswerIsMeasured) {
  RttEstimator rtt({1s, 100ms, 3s});
  EXPECT_EQ(rtt.timeout(), 1s);
  rtt.sample(40ms);  // srtt 40, rttvar 20: 40 + 80 = 120 ms
  EXPECT_EQ(rtt.timeout(), 120ms);
}

TEST(ScanRtt, SamplesFollowRfc6298AndTheTimeoutIsClamped) {
  RttEstimator rtt({1s, 100ms, 3s});
  rtt.sample(1ms);
  EXPECT_EQ(rtt.timeout(), 100ms);  // 1 + 2 ms, raised to the minimum
  rtt.sample(9ms);                  // rttvar (3*500 + 8000)/4 = 2375, srtt (7000+9000)/8 = 2000
  EXPECT_EQ(rtt.srtt(), 2000us);
  EXPECT_EQ(rtt.rttvar(), 2375us);
  for (int i = 0; i < 10; ++i) rtt.sample(5s);
  EXPECT_EQ(rtt.timeout(), 3s);
}

}  // namespace
}  // namespace duplex::scan
