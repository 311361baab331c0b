// ICMP for IPv4 against messages made with scapy, checked with tshark -T json and tcpdump -nn
// on the same bytes.
#include "duplex/inet/icmp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../dissect_fields.h"
#include "duplex/inet/ipv4_header.h"

namespace duplex::inet {
namespace {

using Bytes = std::vector<std::uint8_t>;
using dissect::Problem;
using test::field_value;
using test::find_field;
using test::from_hex;

// scapy: ICMP(type=8, id=1, seq=2)/56 bytes of 'x'.
const Bytes kEcho = from_hex(
    "0800cacf000100027878787878787878787878787878787878787878787878787878787878787878787878787878"
    "787878787878787878787878787878787878");
// The offending datagram all the errors below quote: 10.0.0.2:40000 -> 10.0.0.1:9, UDP "hi".
constexpr std::string_view kQuoted = "4500001e00050000401166c80a0000020a0000019c400009000ae7246869";
const Bytes kPortUnreachable = from_hex(std::string("0303111b00000000") + std::string(kQuoted));
const Bytes kNeedFrag = from_hex(std::string("03040ba200000578") + std::string(kQuoted));
const Bytes kRedirect = from_hex(std::string("0501041f0a0000fe") + std::string(kQuoted));
const Bytes kTimeExceeded = from_hex(std::string("0b00091e00000000") + std::string(kQuoted));
const Bytes kParameterProblem = from_hex(std::string("0c00f41d14000000") + std::string(kQuoted));
// scapy: ICMP(type=13, id=3, seq=4, ts_ori=1000, ts_rx=2000, ts_tx=3000).
const Bytes kTimestamp = from_hex("0d00db8800030004000003e8000007d000000bb8");

TEST(Icmp, DecodesAnEchoRequestWithItsChecksumVerified) {
  const auto h = decode_icmp(kEcho);
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.type, 8);
  EXPECT_EQ(h.code, 0);
  EXPECT_EQ(h.checksum, 0xcacf);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(h.id, 1);
  EXPECT_EQ(h.sequence, 2);
  EXPECT_EQ(h.header_length, 8u);
  EXPECT_FALSE(h.is_error());
  EXPECT_EQ(h.quoted_offset, 0u);
  EXPECT_EQ(summary(h, kEcho, 64), "echo request, id 1, seq 2, length 64");
  dissect::Header out;
  describe(h, kEcho, 34, out);
  EXPECT_EQ(out.protocol, "ICMP");
  EXPECT_EQ(field_value(out, "icmp.type"), "8");
  EXPECT_EQ(find_field(out, "icmp.type")->meaning, "echo request");
  EXPECT_EQ(field_value(out, "icmp.code"), "0");
  EXPECT_EQ(field_value(out, "icmp.checksum"), "0xcacf");
  EXPECT_EQ(field_value(out, "icmp.checksum.status"), "good");
  EXPECT_EQ(field_value(out, "icmp.ident"), "1");
  EXPECT_EQ(field_value(out, "icmp.seq"), "2");
  EXPECT_EQ(find_field(out, "icmp.seq")->offset, 34u + 6);
}

TEST(Icmp, ABadChecksumAndAnUncapturedOneAreTold) {
  Bytes bad = kEcho;
  bad[20] ^= 0xff;
  EXPECT_EQ(decode_icmp(bad).checksum_status, ChecksumStatus::bad);
  // 30 bytes captured of a 64-byte message: the checksum cannot be checked.
  const auto cut = decode_icmp(std::span<const std::uint8_t>(kEcho.data(), 30), 64);
  EXPECT_FALSE(cut.problem);
  EXPECT_EQ(cut.checksum_status, ChecksumStatus::unverified);
}

TEST(Icmp, APortUnreachableQuotesTheLostDatagramForTheChain) {
  const auto h = decode_icmp(kPortUnreachable);
  ASSERT_FALSE(h.problem);
  EXPECT_TRUE(h.is_error());
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  ASSERT_EQ(h.quoted_offset, 8u);
  const auto quoted = decode_ipv4(std::span<const std::uint8_t>(kPortUnreachable).subspan(8));
  EXPECT_EQ(quoted.destination.to_string(), "10.0.0.1");
  EXPECT_EQ(quoted.protocol, kProtocolUdp);
  // tcpdump -nn: "ICMP 10.0.0.1 udp port 9 unreachable, length 38".
  EXPECT_EQ(summary(h, kPortUnreachable, 38), "10.0.0.1 udp port 9 unreachable, length 38");
  dissect::Header out;
  describe(h, kPortUnreachable, 0, out);
  EXPECT_EQ(find_field(out, "icmp.code")->meaning, "port unreachable");
  EXPECT_EQ(field_value(out, "icmp.unused"), "00:00:00:00");
}

TEST(Icmp, FragmentationNeededCarriesTheNextHopMtu) {
  const auto h = decode_icmp(kNeedFrag);
  EXPECT_EQ(h.mtu, 1400);
  EXPECT_EQ(summary(h, kNeedFrag, 38), "10.0.0.1 unreachable - need to frag (mtu 1400), length 38");
  dissect::Header out;
  describe(h, kNeedFrag, 0, out);
  EXPECT_EQ(field_value(out, "icmp.mtu"), "1400");  // tshark
  EXPECT_EQ(field_value(out, "icmp.unused"), "00:00");
}

TEST(Icmp, OtherUnreachableCodesReadAsTcpdumps) {
  Bytes host = kPortUnreachable;
  host[1] = 1;
  EXPECT_EQ(summary(decode_icmp(host), host, 38), "host 10.0.0.1 unreachable, length 38");
  host[1] = 13;
  EXPECT_EQ(summary(decode_icmp(host), host, 38),
            "host 10.0.0.1 unreachable - admin prohibited filter, length 38");
  host[1] = 2;
  EXPECT_EQ(summary(decode_icmp(host), host, 38), "10.0.0.1 protocol 17 unreachable, length 38");
}

TEST(Icmp, RedirectTimeExceededAndParameterProblem) {
  const auto redirect = decode_icmp(kRedirect);
  EXPECT_EQ(redirect.gateway.to_string(), "10.0.0.254");
  EXPECT_EQ(summary(redirect, kRedirect, 38), "redirect 10.0.0.1 to host 10.0.0.254, length 38");
  dissect::Header out;
  describe(redirect, kRedirect, 0, out);
  EXPECT_EQ(field_value(out, "icmp.redir_gw"), "10.0.0.254");

  const auto exceeded = decode_icmp(kTimeExceeded);
  EXPECT_EQ(exceeded.quoted_offset, 8u);
  EXPECT_EQ(summary(exceeded, kTimeExceeded, 38), "time exceeded in-transit, length 38");

  const auto problem = decode_icmp(kParameterProblem);
  EXPECT_EQ(problem.pointer, 20);
  EXPECT_EQ(summary(problem, kParameterProblem, 38), "parameter problem - octet 20, length 38");
}

TEST(Icmp, ATimestampCarriesItsThreeTimes) {
  const auto h = decode_icmp(kTimestamp);
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.header_length, 20u);
  EXPECT_EQ(h.originate, 1000u);
  EXPECT_EQ(h.receive, 2000u);
  EXPECT_EQ(h.transmit, 3000u);
  EXPECT_EQ(summary(h, kTimestamp, 20), "time stamp query id 3 seq 4, length 20");
  dissect::Header out;
  describe(h, kTimestamp, 0, out);
  EXPECT_EQ(field_value(out, "icmp.originate_timestamp"), "1000");
  EXPECT_EQ(field_value(out, "icmp.receive_timestamp"), "2000");
  EXPECT_EQ(field_value(out, "icmp.transmit_timestamp"), "3000");
}

TEST(Icmp, EveryTruncatedPrefixReportsTruncated) {
  for (const Bytes* message : {&kEcho, &kTimestamp}) {
    const std::size_t whole = message == &kEcho ? 8 : 20;
    for (std::size_t n = 0; n < whole; ++n) {
      const std::span<const std::uint8_t> prefix(message->data(), n);
      const auto h = decode_icmp(prefix);
      EXPECT_EQ(h.problem.kind, Problem::Kind::truncated) << n;
      dissect::Header out;
      describe(h, prefix, 0, out);
      EXPECT_NE(out.problem, "") << n;
      for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, n) << f.key;
      EXPECT_FALSE(summary(h, prefix, static_cast<std::uint32_t>(n)).empty());
    }
  }
}

TEST(Icmp, AnErrorWhoseQuotedDatagramIsCutStillSummarises) {
  for (std::size_t n = 8; n < kPortUnreachable.size(); ++n) {
    const std::span<const std::uint8_t> prefix(kPortUnreachable.data(), n);
    const auto h = decode_icmp(prefix, 38);
    EXPECT_FALSE(h.problem) << n;
    EXPECT_FALSE(summary(h, prefix, 38).empty());
  }
}

}  // namespace
}  // namespace duplex::inet
