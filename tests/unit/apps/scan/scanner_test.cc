// apps/scan: the scan engine against listeners on loopback (open and closed ports, IPv4 and
// IPv6, a host reported only once all its ports have a state), and the reports it prints.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <cstdio>

#include "duplex/apps/scan/banner.h"
#include "duplex/apps/scan/report.h"
#include "duplex/apps/scan/scanner.h"
#include "duplex/apps/scan/syn_socket.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/socket.h"

namespace duplex::scan {
namespace {

using namespace std::chrono_literals;

struct Listener {
  Socket socket;
  std::uint16_t port;
  explicit Listener(const char* address) {
    socket = Socket::tcp(inet::Endpoint(inet::Address::parse(address), 0));
    socket.bind(inet::Endpoint(inet::Address::parse(address), 0));
    socket.listen();
    port = socket.local_endpoint().port();
  }
};

// A port that nothing listens on: bound, then closed.
std::uint16_t closed_port(const char* address) {
  Listener l(address);
  return l.port;
}

std::vector<HostResult> run_scan(std::vector<Target> targets, std::vector<std::uint16_t> ports,
                                 ScanOptions options = {}) {
  EventLoop loop;
  std::vector<HostResult> out;
  Scanner scanner(loop, std::move(targets), std::move(ports), options);
  scanner.on_host([&](HostResult r) { out.push_back(std::move(r)); });
  bool done = false;
  scanner.on_done([&] {
    done = true;
    loop.quit();
  });
  loop.run_after(20s, [&] { loop.quit(); });
  scanner.start();
  if (!done) loop.loop();
  EXPECT_TRUE(done);
  return out;
}

TEST(ScanEngine, AListenerIsOpenAndNothingListeningIsClosed) {
  Listener open4("127.0.0.1"), open6("::1");
  const std::uint16_t closed4 = closed_port("127.0.0.1");
  const auto results = run_scan(
      {{inet::Address::parse("127.0.0.1"), "localhost"}, {inet::Address::parse("::1"), ""}},
      {open4.port, closed4, open6.port});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].target.address.to_string(), "127.0.0.1");  // in the order given
  EXPECT_EQ(results[0].outcomes[0].state, PortState::open);
  EXPECT_EQ(results[0].outcomes[0].reason, Reason::syn_ack);
  EXPECT_EQ(results[0].outcomes[1].state, PortState::closed);
  EXPECT_EQ(results[0].outcomes[1].reason, Reason::conn_refused);
  EXPECT_EQ(results[1].outcomes[2].state, PortState::open);
  EXPECT_EQ(results[1].outcomes[0].state, results[1].outcomes[0].state);
  EXPECT_TRUE(results[0].rtt.measured());
  EXPECT_LT(results[0].rtt.srtt(), 100ms);
}

TEST(ScanEngine, ManyPortsThroughFewSlotsAllGetAState) {
  Listener open("127.0.0.1");
  std::vector<std::uint16_t> ports;
  for (std::uint16_t p = 1; p <= 400; ++p) ports.push_back(p);
  ports.push_back(open.port);
  ScanOptions options;
  options.max_inflight = 7;
  const auto results = run_scan({{inet::Address::parse("127.0.0.1"), ""}}, ports, options);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcomes.back().state, PortState::open);
  EXPECT_EQ(results[0].count(PortState::open) + results[0].count(PortState::closed), 401u);
}

TEST(ScanEngine, OneSlotGoesFromRefusedToOpenAndAcrossFamilies) {
  // One slot: each refused probe's socket is connect()ed again for the next port, then an
  // open port in the middle takes a new socket, and the second host is IPv6 (another
  // socket family). Every port must still get the state of its own probe.
  Listener open4("127.0.0.1"), open6("::1");
  std::vector<std::uint16_t> ports{closed_port("127.0.0.1"),
                                   closed_port("127.0.0.1"),
                                   open4.port,
                                   closed_port("::1"),
                                   open6.port,
                                   closed_port("127.0.0.1")};
  ScanOptions options;
  options.max_inflight = 1;
  const auto results = run_scan(
      {{inet::Address::parse("127.0.0.1"), ""}, {inet::Address::parse("::1"), ""}}, ports, options);
  ASSERT_EQ(results.size(), 2u);
  for (std::size_t h = 0; h < 2; ++h) {
    for (std::size_t p = 0; p < ports.size(); ++p) {
      const bool listening = ports[p] == (h == 0 ? open4.port : open6.port);
      if (!listening && (ports[p] == open4.port || ports[p] == open6.port)) continue;
      EXPECT_EQ(results[h].outcomes[p].state, listening ? PortState::open : PortState::closed)
          << "host " << h << " port " << ports[p];
    }
  }
}

TEST(ScanEngine, APortOfOurOwnProbesIsNotOpen) {
  // The probes' sockets are bound to ports of the ephemeral range (the first of them near
  // its start): scanning that range on loopback reaches them, and a socket that connects to
  // itself must not be taken for a listener. Whatever is reported open must take a plain
  // connection too.
  unsigned lo = 32768, hi = 60999;
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    EXPECT_EQ(std::fscanf(f, "%u %u", &lo, &hi), 2);
    std::fclose(f);
  }
  std::vector<std::uint16_t> ports;
  for (unsigned p = lo; p < lo + 1024 && p <= hi; ++p)
    ports.push_back(static_cast<std::uint16_t>(p));
  ScanOptions options;
  options.max_inflight = 4;
  const auto results = run_scan({{inet::Address::parse("127.0.0.1"), ""}}, ports, options);
  ASSERT_EQ(results.size(), 1u);
  for (std::size_t i = 0; i < ports.size(); ++i) {
    if (results[0].outcomes[i].state != PortState::open) continue;
    Socket plain(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));  // blocking
    EXPECT_EQ(plain.connect(inet::Endpoint(inet::Address::parse("127.0.0.1"), ports[i])), 0)
        << "port " << ports[i] << " was reported open";
  }
}

TEST(ScanEngine, ARateSpreadsTheProbesOverTime) {
  const std::uint16_t closed = closed_port("127.0.0.1");
  ScanOptions options;
  options.rate = 100;
  const auto start = std::chrono::steady_clock::now();
  run_scan({{inet::Address::parse("127.0.0.1"), ""}}, std::vector<std::uint16_t>(1, closed),
           options);
  std::vector<std::uint16_t> ports;
  for (std::uint16_t p = 1; p <= 30; ++p) ports.push_back(p);
  run_scan({{inet::Address::parse("127.0.0.1"), ""}}, ports, options);
  // 31 probes at 100 a second, one tick's worth at once: at least about 0.2 s.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
}

TEST(ScanEngine, NoTargetsIsDoneAtOnce) { EXPECT_TRUE(run_scan({}, {80}).empty()); }

HostResult sample_result() {
  static const std::vector<std::uint16_t> ports{443, 22, 80, 81};
  HostResult r;
  r.target = {inet::Address::parse("192.0.2.7"), "web"};
  r.ports = ports;
  r.outcomes = {{PortState::open, Reason::syn_ack},
                {PortState::open, Reason::syn_ack},
                {PortState::closed, Reason::conn_refused},
                {PortState::filtered, Reason::no_response}};
  r.rtt.sample(2ms);
  return r;
}

const Services kServices = Services::parse("ssh 22/tcp\nhttp 80/tcp\nhttps 443/tcp\n");

TEST(ScanReport, TheTableShowsOpenPortsInOrderAndCountsTheRest) {
  EXPECT_EQ(text_report(sample_result(), kServices),
            "scan report for web (192.0.2.7)\n"
            "rtt 2.00 ms (+- 1.00)\n"
            "Not shown: 1 closed, 1 filtered\n"
            "PORT     STATE  SERVICE\n"
            "22/tcp   open   ssh\n"
            "443/tcp  open   https\n");
}

TEST(ScanReport, GrepableIsNmapsLineWithTheCommonestStateIgnored) {
  auto r = sample_result();
  r.outcomes[3] = {PortState::closed, Reason::conn_refused};
  EXPECT_EQ(grepable_report(r, kServices),
            "Host: 192.0.2.7 (web)\tPorts: 22/open/tcp//ssh///, 443/open/tcp//https///"
            "\tIgnored State: closed (2)\n");
}

TEST(ScanReport, JsonHasCountsReasonsAndEveryPortWithAll) {
  const auto j = json_report(sample_result(), kServices, {true});
  EXPECT_EQ(j["host"], "192.0.2.7");
  EXPECT_EQ(j["counts"]["open"], 2);
  EXPECT_EQ(j["ports"].size(), 4u);
  EXPECT_EQ(j["ports"][0]["port"], 22);
  EXPECT_EQ(j["ports"][2]["state"], "filtered");
  EXPECT_EQ(j["ports"][2]["reason"], "no-response");
  EXPECT_EQ(j["srtt_ms"], 2.0);
}

TEST(ScanBanner, ControlCharactersAreEscaped) {
  EXPECT_EQ(escape_banner("SSH-2.0-OpenSSH_9.2\r\n"), "SSH-2.0-OpenSSH_9.2");
  EXPECT_EQ(escape_banner(std::string_view("a\x1b[31mb\tc\\\xff\n\x00z", 14)),
            "a\\x1b[31mb\\tc\\\\\\xff\\n\\x00z");
  EXPECT_EQ(escape_banner("abcdef", 3), "abc...");
}

// An IPv4 packet (no options, checksums left 0: the matcher reads, it does not verify).
std::vector<std::uint8_t> ipv4(const char* from, const char* to, std::uint8_t protocol,
                               std::vector<std::uint8_t> payload) {
  std::vector<std::uint8_t> p(20);
  p[0] = 0x45;
  const auto total = static_cast<std::uint16_t>(20 + payload.size());
  p[2] = static_cast<std::uint8_t>(total >> 8);
  p[3] = static_cast<std::uint8_t>(total);
  p[8] = 64;
  p[9] = protocol;
  const auto a = inet::Address::parse(from), b = inet::Address::parse(to);
  std::copy(a.data(), a.data() + 4, p.begin() + 12);
  std::copy(b.data(), b.data() + 4, p.begin() + 16);
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

std::vector<std::uint8_t> tcp(std::uint16_t from, std::uint16_t to, std::uint32_t seq,
                              std::uint32_t ack, std::uint8_t flags) {
  std::vector<std::uint8_t> t(20);
  auto put = [&](std::size_t at, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      t[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * (bytes - 1 - i)));
  };
  put(0, from, 2);
  put(2, to, 2);
  put(4, seq, 4);
  put(8, ack, 4);
  t[12] = 5 << 4;
  t[13] = flags;
  return t;
}

TEST(ScanSyn, ASynAckToOurCookieIsOpenAResetClosed) {
  const SynMatcher m(61000, 42);
  const auto host = inet::Address::parse("10.99.0.2");
  const std::uint32_t ack = m.cookie(host, 80) + 1;
  const auto open = m.from_tcp(ipv4("10.99.0.2", "10.99.0.1", 6, tcp(80, 61000, 7, ack, 0x12)));
  ASSERT_TRUE(open);
  EXPECT_EQ(open->host, host);
  EXPECT_EQ(open->port, 80);
  EXPECT_EQ(open->outcome.state, PortState::open);
  const auto closed = m.from_tcp(ipv4("10.99.0.2", "10.99.0.1", 6, tcp(80, 61000, 0, ack, 0x14)));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->outcome.state, PortState::closed);
}

TEST(ScanSyn, StraysAreIgnored) {
  const SynMatcher m(61000, 42);
  const std::uint32_t ack = m.cookie(inet::Address::parse("10.99.0.2"), 80) + 1;
  // Another port of ours, another acknowledgment, another host, a bare ACK.
  EXPECT_FALSE(m.from_tcp(ipv4("10.99.0.2", "10.99.0.1", 6, tcp(80, 61001, 7, ack, 0x12))));
  EXPECT_FALSE(m.from_tcp(ipv4("10.99.0.2", "10.99.0.1", 6, tcp(80, 61000, 7, ack + 1, 0x12))));
  EXPECT_FALSE(m.from_tcp(ipv4("10.99.0.3", "10.99.0.1", 6, tcp(80, 61000, 7, ack, 0x12))));
  EXPECT_FALSE(m.from_tcp(ipv4("10.99.0.2", "10.99.0.1", 6, tcp(80, 61000, 7, ack, 0x10))));
  EXPECT_FALSE(m.from_tcp({}));
}

TEST(ScanSyn, AnUnreachableQuotingOurSynIsFiltered) {
  const SynMatcher m(61000, 42);
  const auto host = inet::Address::parse("10.99.0.2");
  auto quoted = ipv4("10.99.0.1", "10.99.0.2", 6, tcp(61000, 443, m.cookie(host, 443), 0, 0x02));
  quoted.resize(28);  // the IP header and 8 bytes of TCP, as routers quote
  std::vector<std::uint8_t> icmp{3, 13, 0, 0, 0, 0, 0, 0};
  icmp.insert(icmp.end(), quoted.begin(), quoted.end());
  const auto a = m.from_icmp(ipv4("10.99.0.2", "10.99.0.1", 1, icmp));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, host);
  EXPECT_EQ(a->port, 443);
  EXPECT_EQ(a->outcome.state, PortState::filtered);
  EXPECT_EQ(a->outcome.reason, Reason::admin_prohibited);
  quoted[24] ^= 1;  // another sequence number: not ours
  icmp.resize(8);
  icmp.insert(icmp.end(), quoted.begin(), quoted.end());
  EXPECT_FALSE(m.from_icmp(ipv4("10.99.0.2", "10.99.0.1", 1, icmp)));
}

// An IPv6 header (no extension headers) and its payload, as an ICMPv6 error quotes it.
std::vector<std::uint8_t> ipv6(const char* from, const char* to, std::uint8_t next,
                               std::vector<std::uint8_t> payload) {
  std::vector<std::uint8_t> p(40);
  p[0] = 0x60;
  p[4] = static_cast<std::uint8_t>(payload.size() >> 8);
  p[5] = static_cast<std::uint8_t>(payload.size());
  p[6] = next;
  p[7] = 64;
  const auto a = inet::Address::parse(from), b = inet::Address::parse(to);
  std::copy(a.data(), a.data() + 16, p.begin() + 8);
  std::copy(b.data(), b.data() + 16, p.begin() + 24);
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

TEST(ScanSyn, OverIpv6ASynAckIsOpenAResetClosedAndAnotherHostsIgnored) {
  const SynMatcher m(61000, 42);
  const auto host = inet::Address::parse("fd99::2");
  const std::uint32_t ack = m.cookie(host, 22) + 1;
  const auto open = m.from_tcp6(host, tcp(22, 61000, 7, ack, 0x12));
  ASSERT_TRUE(open);
  EXPECT_EQ(open->host, host);
  EXPECT_EQ(open->port, 22);
  EXPECT_EQ(open->outcome.state, PortState::open);
  const auto closed = m.from_tcp6(host, tcp(22, 61000, 0, ack, 0x14));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->outcome.state, PortState::closed);
  // The segment's own source decides: the same bytes from another host are not our answer.
  EXPECT_FALSE(m.from_tcp6(inet::Address::parse("fd99::3"), tcp(22, 61000, 7, ack, 0x12)));
  const std::vector<std::uint8_t> short_segment{1, 2, 3};  // shorter than a TCP header
  EXPECT_FALSE(m.from_tcp6(host, short_segment));
}

TEST(ScanSyn, AnIcmpv6UnreachableQuotingOurSynIsFiltered) {
  const SynMatcher m(61000, 42);
  const auto host = inet::Address::parse("fd99::2");
  auto quoted = ipv6("fd99::1", "fd99::2", 6, tcp(61000, 443, m.cookie(host, 443), 0, 0x02));
  std::vector<std::uint8_t> icmp{1, 1, 0, 0, 0, 0, 0, 0};  // unreachable, admin prohibited
  icmp.insert(icmp.end(), quoted.begin(), quoted.end());
  const auto a = m.from_icmp6(icmp);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, host);
  EXPECT_EQ(a->port, 443);
  EXPECT_EQ(a->outcome.state, PortState::filtered);
  EXPECT_EQ(a->outcome.reason, Reason::admin_prohibited);
  icmp[1] = 4;  // port unreachable
  EXPECT_EQ(m.from_icmp6(icmp)->outcome.reason, Reason::port_unreach);
  icmp[0] = 3;  // time exceeded: not an answer to a SYN scan
  EXPECT_FALSE(m.from_icmp6(icmp));
  icmp[0] = 1;
  icmp[8 + 40 + 4] ^= 1;  // another sequence number: not ours
  EXPECT_FALSE(m.from_icmp6(icmp));
  icmp.resize(8 + 40 + 6);  // cut inside the quoted sequence number
  EXPECT_FALSE(m.from_icmp6(icmp));
}

}  // namespace
}  // namespace duplex::scan
