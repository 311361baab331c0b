// apps/discovery_probe: reading a server's answer, and the probe against a responder on
// loopback (a plain UDP socket on the loop, speaking chat_protocol.h's contract).
#include "duplex/apps/chat/discovery_probe.h"

#include <gtest/gtest.h>

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/apps/chat/discovery.h"
#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/udp_socket.h"

namespace duplex::apps {
namespace {

using namespace std::chrono_literals;

const inet::Address kFrom = inet::Address::parse("192.168.1.20");

TEST(DiscoveryAnswer, ReadsEveryFieldAndTakesTheAddressFromTheSource) {
  auto s = parse_discovery_answer(
      R"({"service":"duplex","version":"0.1.0","host":"lab","chat_port":7000,)"
      R"("http_port":8080,"token_required":true})",
      kFrom);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->address, kFrom);
  EXPECT_EQ(s->host, "lab");
  EXPECT_EQ(s->version, "0.1.0");
  EXPECT_EQ(s->chat_port, 7000);
  EXPECT_EQ(s->http_port, 8080);
  EXPECT_TRUE(s->token_required);
  EXPECT_EQ(s->chat().to_string(), "192.168.1.20:7000");
  EXPECT_EQ(s->dashboard_url(), "http://192.168.1.20:8080/");
}

TEST(DiscoveryAnswer, BracketsAnIpv6AddressInTheDashboardUrl) {
  auto s = parse_discovery_answer(R"({"service":"duplex","chat_port":7000,"http_port":8080})",
                                  inet::Address::parse("fe80::1"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->dashboard_url(), "http://[fe80::1]:8080/");
  EXPECT_FALSE(s->token_required);
}

TEST(DiscoveryAnswer, RefusesWhatIsNotADuplexAnswer) {
  for (const char* text :
       {"", "DUPLEX-DISCOVER 1\n", "not json", "[1,2]", R"({"service":"other","chat_port":7000})",
        R"({"service":"duplex"})", R"({"service":"duplex","chat_port":0})",
        R"({"service":"duplex","chat_port":70000})", R"({"service":"duplex","chat_port":"7000"})",
        R"({"service":"duplex","chat_port":-1})"}) {
    EXPECT_FALSE(parse_discovery_answer(text, kFrom)) << text;
  }
}

TEST(DiscoveryAnswer, ATlsServerNamesItsCertificateAndTheDashboardIsHttps) {
  const std::string hex(64, 'a');
  DiscoveryInfo info{"0.1.0", std::string(255, 'h'), 7000, 8080, true, hex};
  const std::string answer = discovery_answer(info);
  EXPECT_LE(answer.size(), discovery_probe().size());  // the host name is cut, not the hash
  auto s = parse_discovery_answer(answer, kFrom);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->tls);
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += i == 0 ? "AA" : ":AA";
  EXPECT_EQ(s->sha256, colons);
  EXPECT_EQ(s->dashboard_url(), "https://192.168.1.20:8080/");
  info.tls_sha256 = "abc";  // not a SHA-256: left out, so the answer says clear text
  s = parse_discovery_answer(discovery_answer(info), kFrom);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->tls);
}

TEST(DiscoveryAnswer, TlsNeedsABooleanAndTheHashSixtyFourHexDigits) {
  auto s = parse_discovery_answer(R"({"service":"duplex","chat_port":7000,"tls":"yes"})", kFrom);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->tls);
  for (const char* hash : {"", "zz", "\\u001b[31m", "0123456789abcdef"}) {
    s = parse_discovery_answer(std::string(R"({"service":"duplex","chat_port":7000,"tls":true,)") +
                                   R"("sha256":")" + hash + R"("})",
                               kFrom);
    ASSERT_TRUE(s) << hash;
    EXPECT_TRUE(s->tls);
    EXPECT_EQ(s->sha256, "") << hash;  // the client then asks for --pin
  }
}

TEST(DiscoveryResponderRules, OnlyTheExactPaddedProbeIsOne) {
  const std::string probe = discovery_probe();
  EXPECT_EQ(probe.size(), chat::kDiscoveryProbeBytes);
  EXPECT_TRUE(is_discovery_probe(probe));
  EXPECT_FALSE(is_discovery_probe(chat::kDiscoveryProbe));  // short: it would amplify
  EXPECT_FALSE(is_discovery_probe(probe + " "));
  EXPECT_FALSE(is_discovery_probe(probe.substr(0, probe.size() - 1)));
  std::string junk = probe;
  junk.back() = 'x';
  EXPECT_FALSE(is_discovery_probe(junk));
}

TEST(DiscoveryResponderRules, TheAnswerIsNeverLargerThanTheProbe) {
  DiscoveryInfo info{"0.1.0", std::string(255, 'h'), 65535, 65535, true};
  const std::string answer = discovery_answer(info);
  EXPECT_LE(answer.size(), discovery_probe().size());
  auto s = parse_discovery_answer(answer, kFrom);
  ASSERT_TRUE(s);  // still a whole answer, with the host name cut
  EXPECT_EQ(s->chat_port, 65535);
  EXPECT_EQ(s->host, std::string(s->host.size(), 'h'));
  info.host = "lab";
  EXPECT_EQ(parse_discovery_answer(discovery_answer(info), kFrom)->host, "lab");
}

// Found by the discovery fuzz target: a long version (or one of control characters, which
// JSON writes six times longer) made the answer larger than the probe.
TEST(DiscoveryResponderRules, ALongVersionIsCutTooSoTheAnswerStaysSmallerThanTheProbe) {
  for (const std::string& version : {std::string(300, '^'), std::string(100, '\x01')}) {
    const DiscoveryInfo info{version, "lab", 65535, 65535, true};
    const std::string answer = discovery_answer(info);
    EXPECT_LE(answer.size(), discovery_probe().size());
    auto s = parse_discovery_answer(answer, kFrom);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->chat_port, 65535);
  }
}

TEST(DiscoveryProbe, SendsTheProbeAndReportsEachServerOnceThenEndsAtTheDeadline) {
  EventLoop loop;
  UdpSocket responder(&loop, inet::Endpoint::parse("127.0.0.1:0"));
  std::vector<std::string> probes;
  responder.start_reading([&](std::span<const Datagram> batch) {
    for (const auto& d : batch) {
      probes.emplace_back(d.data);
      responder.send_to(R"({"service":"duplex","chat_port":7000,"http_port":8080})", d.peer);
    }
  });
  ProbeOptions options;
  options.target = responder.local();  // a unicast target: no broadcast needed for the test
  options.timeout = 300ms;
  DiscoveryProbe probe(&loop, options);
  std::vector<DiscoveredServer> found;
  std::size_t done_with = 99;
  probe.start([&](const DiscoveredServer& s) { found.push_back(s); },
              [&](std::size_t n) {
                done_with = n;
                loop.quit();
              });
  loop.loop();
  EXPECT_EQ(probes, (std::vector<std::string>(2, discovery_probe())));
  ASSERT_EQ(found.size(), 1u);  // two probes, two answers, one server
  EXPECT_EQ(found[0].chat().to_string(), "127.0.0.1:7000");
  EXPECT_EQ(done_with, 1u);
}

TEST(DiscoveryProbe, AProbeThatCannotBeSentThrowsNamingTheAddress) {
  EventLoop loop;
  ProbeOptions options;
  options.target = inet::Endpoint(inet::Address::parse("0.0.0.0"), 0);  // UDP port 0: EINVAL
  DiscoveryProbe probe(&loop, options);
  try {
    probe.start({}, {});
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sendto 0.0.0.0:0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace duplex::apps
