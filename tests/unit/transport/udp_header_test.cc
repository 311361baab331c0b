// The UDP header against datagrams made with scapy, checked with tshark -T fields (checksums
// verified) and tcpdump -nn on the same bytes.
#include "duplex/transport/udp_header.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "../dissect_fields.h"

namespace duplex::transport {
namespace {

using Bytes = std::vector<std::uint8_t>;
using dissect::Problem;
using inet::Address;
using inet::ChecksumStatus;
using inet::PseudoHeader;
using test::field_value;
using test::find_field;
using test::from_hex;

// scapy: IP(10.0.0.1 -> 10.0.0.2)/UDP(40000 -> 9999)/"hello" (and with chksum=0).
const Bytes kHello = from_hex("9c40270f000de4af68656c6c6f");
const Bytes kNoChecksum = from_hex("9c40270f000d000068656c6c6f");
// scapy: IPv6(fe80::1 -> fe80::2)/UDP(40000 -> 9999)/"hello".
const Bytes kHello6 = from_hex("9c40270f000dfbad68656c6c6f");

const PseudoHeader kIpv4{Address::parse("10.0.0.1"), Address::parse("10.0.0.2"), 17, 13};
const PseudoHeader kIpv6{Address::parse("fe80::1"), Address::parse("fe80::2"), 17, 13};

TEST(UdpHeader, DecodesADatagramWithItsChecksumVerified) {
  const auto h = decode_udp(kHello, kIpv4);
  ASSERT_FALSE(h.problem) << h.problem.what;
  EXPECT_EQ(h.source_port, 40000);
  EXPECT_EQ(h.destination_port, 9999);
  EXPECT_EQ(h.length, 13);
  EXPECT_EQ(h.checksum, 0xe4af);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(h.header_length, 8u);
  EXPECT_EQ(h.payload_length, 5u);
  EXPECT_EQ(h.payload_captured, 5u);
  EXPECT_EQ(summary(h), "UDP, length 5");
  dissect::Header out;
  describe(h, kHello, 34, out);
  EXPECT_EQ(out.protocol, "UDP");
  EXPECT_EQ(out.layer, dissect::Layer::transport);
  EXPECT_EQ(out.length, 8u);
  EXPECT_EQ(out.problem, "");
  EXPECT_EQ(field_value(out, "udp.srcport"), "40000");
  EXPECT_EQ(field_value(out, "udp.dstport"), "9999");
  EXPECT_EQ(field_value(out, "udp.length"), "13");
  EXPECT_EQ(field_value(out, "udp.checksum"), "0xe4af");
  EXPECT_EQ(field_value(out, "udp.checksum.status"), "good");
  EXPECT_EQ(find_field(out, "udp.checksum")->offset, 34u + 6);
}

TEST(UdpHeader, AChecksumOfZeroIsNoneOverIpv4AndBadOverIpv6) {
  // tshark: "Checksum Status: Not present" over IPv4, "Illegal checksum value (0)" over IPv6.
  EXPECT_EQ(decode_udp(kNoChecksum, kIpv4).checksum_status, ChecksumStatus::none);
  EXPECT_EQ(decode_udp(kNoChecksum, kIpv6).checksum_status, ChecksumStatus::bad);
  dissect::Header out;
  describe(decode_udp(kNoChecksum, kIpv4), kNoChecksum, 0, out);
  EXPECT_EQ(field_value(out, "udp.checksum.status"), "none");
  EXPECT_EQ(decode_udp(kHello6, kIpv6).checksum_status, ChecksumStatus::good);
}

TEST(UdpHeader, AnOffloadedChecksumIsPartialNotBad) {
  // kHello and kHello6 as sent through lo or a veth: the field holds the pseudo-header's sum
  // only (0x1421 over 10.0.0.1 -> 10.0.0.2, 0xfd22 over fe80::1 -> fe80::2).
  Bytes partial = kHello;
  partial[6] = 0x14;
  partial[7] = 0x21;
  EXPECT_EQ(decode_udp(partial, kIpv4).checksum_status, ChecksumStatus::partial);
  dissect::Header out;
  describe(decode_udp(partial, kIpv4), partial, 0, out);
  EXPECT_EQ(field_value(out, "udp.checksum.status"), "unverified (partial, offloaded)");
  Bytes partial6 = kHello6;
  partial6[6] = 0xfd;
  partial6[7] = 0x22;
  EXPECT_EQ(decode_udp(partial6, kIpv6).checksum_status, ChecksumStatus::partial);
  EXPECT_EQ(decode_udp(partial6, kIpv4).checksum_status, ChecksumStatus::bad);
}

TEST(UdpHeader, ABadChecksumAndAnUncapturedOneAreTold) {
  Bytes changed = kHello;
  changed.back() ^= 1;
  EXPECT_EQ(decode_udp(changed, kIpv4).checksum_status, ChecksumStatus::bad);
  EXPECT_EQ(decode_udp(kHello6, kIpv4).checksum_status, ChecksumStatus::bad);
  const std::span<const std::uint8_t> cut(kHello.data(), 10);
  const auto h = decode_udp(cut, kIpv4);
  EXPECT_FALSE(h.problem);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::unverified);
  EXPECT_EQ(h.payload_length, 5u);
  EXPECT_EQ(h.payload_captured, 2u);
  EXPECT_EQ(decode_udp(kHello).checksum_status, ChecksumStatus::unverified);  // no addresses
}

TEST(UdpHeader, ALengthBelowEightIsMalformed) {
  // scapy: UDP(len=7)/"hello"; tcpdump: "truncated-udplength 7", tshark: "Bad length value 7 < 8".
  const Bytes b = from_hex("9c40270f0007e4b568656c6c6f");
  const auto h = decode_udp(b, kIpv4);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(h.problem.what, "the UDP length is below 8");
  EXPECT_EQ(h.problem.at, 4u);
  EXPECT_EQ(h.header_length, 0u);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::unverified);
  EXPECT_EQ(summary(h), "truncated-udplength 7");
  dissect::Header out;
  describe(h, b, 0, out);
  EXPECT_EQ(out.problem, "malformed at byte 4 of the header: the UDP length is below 8");
  EXPECT_EQ(field_value(out, "udp.length"), "7");
}

TEST(UdpHeader, ALengthPastTheIpPayloadIsMalformed) {
  // scapy: UDP(len=20)/"hello" in 13 bytes; tcpdump: "UDP, bad length 12 > 5".
  const Bytes b = from_hex("9c40270f0014e4a868656c6c6f");
  const auto h = decode_udp(b, kIpv4);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(h.problem.what, "the UDP length runs past the IP payload");
  EXPECT_EQ(summary(h), "UDP, bad length 12 > 5");
  // An IP payload too short for any UDP header.
  const auto tiny = decode_udp(std::span<const std::uint8_t>(kHello.data(), 6));
  EXPECT_EQ(tiny.problem.kind, Problem::Kind::malformed);
  EXPECT_EQ(summary(tiny), "[|udp]");
}

TEST(UdpHeader, ALengthShortOfTheIpPayloadLeavesPaddingOutOfTheDatagram) {
  // scapy: UDP(len=10)/"hello": tcpdump "UDP, length 2"; tshark checks 10 bytes: bad.
  const Bytes b = from_hex("9c40270f000ae4b268656c6c6f");
  const auto h = decode_udp(b, kIpv4);
  EXPECT_FALSE(h.problem);
  EXPECT_EQ(h.payload_length, 2u);
  EXPECT_EQ(h.payload_captured, 2u);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::bad);
  EXPECT_EQ(summary(h), "UDP, length 2");
}

TEST(UdpHeader, EveryTruncatedPrefixKeepsWhatItHadAndNeverReadsPast) {
  for (std::size_t n = 0; n < kHello.size(); ++n) {
    const std::span<const std::uint8_t> prefix(kHello.data(), n);
    const auto h = decode_udp(prefix, kIpv4);
    if (n < 8) {
      EXPECT_EQ(h.problem.kind, Problem::Kind::truncated) << n;
      EXPECT_EQ(h.problem.at, n);
      EXPECT_EQ(summary(h), "[|udp]");
    } else {
      EXPECT_FALSE(h.problem) << n;
      EXPECT_EQ(h.checksum_status, ChecksumStatus::unverified);
    }
    dissect::Header out;
    describe(h, prefix, 0, out);
    EXPECT_EQ(out.problem.empty(), n >= 8) << n;
    for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, n) << f.key << " " << n;
  }
}

TEST(UdpHeader, RandomBytesNeverMakeAFieldPastTheCapture) {
  std::mt19937 random(17);
  for (int round = 0; round < 20000; ++round) {
    Bytes b(random() % 24);
    for (auto& byte : b) byte = static_cast<std::uint8_t>(random());
    if (b.size() > 5 && round % 2 == 0) b[4] = 0;  // lengths below 256, some of them sound
    PseudoHeader ip = round % 3 == 0 ? kIpv6 : kIpv4;
    ip.length = static_cast<std::uint32_t>(b.size() + random() % 3 * (random() % 20));
    const auto h = decode_udp(b, ip);
    EXPECT_LE(h.payload_captured, b.size()) << round;
    dissect::Header out;
    describe(h, b, 0, out);
    test::expect_fields_inside(out.fields, b.size(), std::to_string(round));
    EXPECT_FALSE(summary(h).empty());
  }
}

}  // namespace
}  // namespace duplex::transport
