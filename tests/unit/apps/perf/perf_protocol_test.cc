// apps/perf: iperf3's control protocol as bytes: the cookie, the length-framed JSON, the
// parameters and results as iperf3 3.12 writes them, and the UDP header's counts.
#include <gtest/gtest.h>

#include <string>

#include "duplex/apps/perf/perf_protocol.h"
#include "duplex/apps/perf/perf_udp.h"
#include "duplex/base/error.h"

namespace duplex::apps::perf {
namespace {

using nlohmann::json;

TEST(Cookie, Is36CharactersOfBase32AndANul) {
  const std::string c = make_cookie();
  ASSERT_EQ(c.size(), kCookieSize);
  EXPECT_EQ(c.back(), '\0');
  EXPECT_TRUE(is_cookie(c));
  EXPECT_NE(make_cookie(), c);
}

TEST(Cookie, RefusesBytesOfAnotherShape) {
  EXPECT_FALSE(is_cookie(std::string(37, 'a')));  // no NUL
  EXPECT_FALSE(is_cookie("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"));
  std::string upper = make_cookie();
  upper[0] = 'A';
  EXPECT_FALSE(is_cookie(upper));
  EXPECT_FALSE(is_cookie("short"));
}

TEST(Cookie, APrefixIsJudgedAtItsFirstByte) {
  const std::string c = make_cookie();
  EXPECT_TRUE(is_cookie_prefix(""));
  EXPECT_TRUE(is_cookie_prefix(c.substr(0, 5)));
  EXPECT_TRUE(is_cookie_prefix(c));
  EXPECT_FALSE(is_cookie_prefix("G"));  // "GET / HTTP/1.1": refused at once
  EXPECT_FALSE(is_cookie_prefix(std::string(37, 'a')));
}

TEST(States, HaveIperf3sNumbersAndNames) {
  EXPECT_EQ(static_cast<int>(State::kParamExchange), 9);
  EXPECT_EQ(static_cast<int>(State::kIperfDone), 16);
  EXPECT_EQ(state_name(13), "EXCHANGE_RESULTS");
  EXPECT_EQ(state_name(-1), "ACCESS_DENIED");
  EXPECT_EQ(state_name(77), "unknown state 77");
}

TEST(FrameJson, PrefixesTheCompactTextWithItsBigEndianLength) {
  const std::string frame = frame_json(json{{"tcp", true}});
  EXPECT_EQ(frame, std::string("\0\0\0\x0c{\"tcp\":true}", 16));
}

TEST(ControlReader, WaitsForWholeMessagesAcrossReads) {
  const std::string bytes = std::string(1, '\x09') + frame_json(json{{"udp", true}, {"time", 3}});
  ControlReader reader;
  reader.append(bytes.substr(0, 3));
  EXPECT_EQ(reader.take_state(), std::optional<std::int8_t>(9));
  EXPECT_FALSE(reader.take_json());  // two of the length's four bytes
  reader.append(bytes.substr(3, 10));
  EXPECT_FALSE(reader.take_json());
  reader.append(bytes.substr(13));
  auto j = reader.take_json();
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["time"], 3);
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_FALSE(reader.take_state());
}

TEST(ControlReader, RefusesAHugeLengthBeforeBufferingIt) {
  ControlReader reader;
  reader.append("GET / HTTP/1.1\r\n");  // 'GET ' read as a length: 1.19 GB
  EXPECT_THROW(reader.take_json(), ParseError);
}

TEST(ControlReader, RefusesTextThatIsNotAJsonObject) {
  ControlReader reader;
  reader.append(std::string("\0\0\0\x05hello", 9));
  EXPECT_THROW(reader.take_json(), ParseError);
  ControlReader array;
  array.append(std::string("\0\0\0\x02[]", 6));
  EXPECT_THROW(array.take_json(), ParseError);
}

TEST(Parameters, ReadsWhatIperf312Sends) {
  // iperf3 3.12's send_parameters for -u -R -b 1M -l 100 -t 1.
  const auto p = parse_parameters(json::parse(
      R"({"udp":true,"omit":0,"time":1,"num":0,"blockcount":0,"parallel":1,"reverse":true,)"
      R"("len":100,"bandwidth":1000000,"pacing_timer":1000,"client_version":"3.12"})"));
  EXPECT_EQ(p.protocol, Protocol::kUdp);
  EXPECT_TRUE(p.reverse);
  EXPECT_EQ(p.time, 1u);
  EXPECT_EQ(p.len, 100u);
  EXPECT_EQ(p.bandwidth, 1'000'000u);
  EXPECT_EQ(p.client_version, "3.12");
  EXPECT_EQ(p.block_size(), 100u);
}

TEST(Parameters, RoundTripThroughJson) {
  TestParameters p;
  p.parallel = 4;
  p.time = 5;
  p.congestion = "bbr";
  p.window = 1 << 20;
  p.nodelay = true;
  const auto back = parse_parameters(to_json(p));
  EXPECT_EQ(back.parallel, 4u);
  EXPECT_EQ(back.congestion, "bbr");
  EXPECT_EQ(back.window, 1u << 20);
  EXPECT_TRUE(back.nodelay);
  EXPECT_FALSE(back.reverse);
  EXPECT_EQ(back.block_size(), 128u * 1024);
}

TEST(Parameters, BadValuesNameTheKey) {
  auto message = [](const char* text) {
    try {
      parse_parameters(json::parse(text));
    } catch (const ParseError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(R"({"tcp":true,"parallel":0})"),
            "parameter 'parallel' 0 is out of range 1..128");
  EXPECT_EQ(message(R"({"tcp":true,"time":"ten"})"), "parameter 'time' is not a number");
  EXPECT_EQ(message(R"({"time":1})"), "the test parameters name neither tcp nor udp (or both)");
  EXPECT_EQ(message(R"({"udp":true,"len":8})"),
            "parameter 'len' 8 is below 16, the UDP header's size");
  EXPECT_EQ(message(R"({"tcp":true,"time":0})"),
            "the test has no end: time, num and blockcount are all 0");
}

TEST(Results, ReadIperf3sMinusOneWrittenUnsigned) {
  // iperf3 3.12's receiver writes -1 through an unsigned conversion.
  const auto r = parse_results(json::parse(
      R"({"cpu_util_total":46.7,"cpu_util_user":3.3,"cpu_util_system":43.3,)"
      R"("sender_has_retransmits":18446744073709551615,"congestion_used":"bbr","streams":[)"
      R"({"id":1,"bytes":1030225920,"retransmits":18446744073709551615,"jitter":0,)"
      R"("errors":0,"packets":0,"start_time":0,"end_time":1.002941},)"
      R"({"id":3,"bytes":5,"retransmits":1.8446744073709552e+19,"jitter":0,"errors":0,)"
      R"("packets":0,"start_time":0,"end_time":1.0}]})"));
  EXPECT_EQ(r.sender_has_retransmits, -1);
  EXPECT_EQ(r.congestion_used, "bbr");
  ASSERT_EQ(r.streams.size(), 2u);
  EXPECT_EQ(r.streams[0].bytes, 1030225920u);
  EXPECT_EQ(r.streams[0].retransmits, -1);
  EXPECT_EQ(r.streams[1].id, 3);
  EXPECT_EQ(r.streams[1].retransmits, -1);
  EXPECT_DOUBLE_EQ(r.streams[0].end_time, 1.002941);
}

TEST(Results, RoundTripAndRefuseMissingFields) {
  TestResults r;
  r.sender_has_retransmits = 1;
  r.streams.push_back({stream_id(0), 1000, 2, 0, 0, 0, 0, 1.5});
  r.streams.push_back({stream_id(1), 2000, 0, 0, 0, 0, 0, 1.5});
  const auto back = parse_results(to_json(r));
  ASSERT_EQ(back.streams.size(), 2u);
  EXPECT_EQ(back.streams[1].id, 3);  // iperf3 numbers streams 1, 3, 4...
  EXPECT_EQ(back.streams[0].retransmits, 2);
  EXPECT_THROW(parse_results(json{{"streams", json::array()}}), ParseError);
  EXPECT_THROW(parse_results(json{{"cpu_util_total", 0},
                                  {"cpu_util_user", 0},
                                  {"cpu_util_system", 0},
                                  {"sender_has_retransmits", 0}}),
               ParseError);
}

TEST(UdpHeader, EncodesSecondsMicrosecondsAndSequenceBigEndian) {
  char buf[16];
  encode_udp_header({0x0000e178, 0x46cc, 1}, false, buf);
  EXPECT_EQ(std::string(buf, 12), std::string("\0\0\xe1\x78\0\0\x46\xcc\0\0\0\x01", 12));
  auto h = decode_udp_header(std::string_view(buf, 12), false);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->sequence, 1u);
  encode_udp_header({1, 2, (1ull << 40) + 7}, true, buf);
  EXPECT_EQ(decode_udp_header(std::string_view(buf, 16), true)->sequence, (1ull << 40) + 7);
  EXPECT_FALSE(decode_udp_header(std::string_view(buf, 11), false));
}

TEST(UdpReceiveStats, CountsGapsAsLossAndLateOnesAsReordered) {
  UdpReceiveStats s;
  for (std::uint64_t seq : {1u, 2u, 5u, 3u, 6u}) s.on_datagram({0, 0, seq}, 0.0);
  EXPECT_EQ(s.highest_sequence(), 6u);
  EXPECT_EQ(s.lost(), 1);  // 3 and 4 missed, then 3 came late
  EXPECT_EQ(s.out_of_order(), 1u);
  EXPECT_EQ(s.datagrams(), 5u);
}

TEST(UdpReceiveStats, JitterFollowsRfc3550) {
  UdpReceiveStats s;
  // Sent every 10 ms; the third arrives 16 ms late: |D| = 0.016, J = 0.016/16 = 0.001.
  s.on_datagram({100, 0, 1}, 5.000);
  s.on_datagram({100, 10000, 2}, 5.010);
  EXPECT_DOUBLE_EQ(s.jitter_seconds(), 0.0);
  s.on_datagram({100, 20000, 3}, 5.036);
  EXPECT_NEAR(s.jitter_seconds(), 0.001, 1e-9);
  // Back on time: D = 0.016 again; J += (0.016 - 0.001) / 16.
  s.on_datagram({100, 30000, 4}, 5.030);
  EXPECT_NEAR(s.jitter_seconds(), 0.001 + 0.015 / 16, 1e-9);
}

}  // namespace
}  // namespace duplex::apps::perf
