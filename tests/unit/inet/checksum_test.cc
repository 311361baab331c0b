// The Internet checksum against RFC 1071's worked example and real headers.
#include "duplex/inet/checksum.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace duplex::inet {
namespace {

TEST(Checksum, MatchesRfc1071sExample) {
  // RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (one's complement sum).
  const std::array<std::uint8_t, 8> bytes{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(checksum_add(0, bytes)), static_cast<std::uint16_t>(~0xddf2));
}

TEST(Checksum, AnIpv4HeaderWithItsChecksumSumsToZero) {
  // 192.168.0.1 -> 192.168.0.199, a captured header with checksum 0xb861.
  const std::array<std::uint8_t, 20> header{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                                            0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
                                            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(checksum_fold(checksum_add(0, header)), 0);
  auto zeroed = header;
  zeroed[10] = zeroed[11] = 0;
  EXPECT_EQ(checksum_fold(checksum_add(0, zeroed)), 0xb861);
}

TEST(Checksum, AnOddByteIsPaddedWithZero) {
  const std::array<std::uint8_t, 3> odd{0x12, 0x34, 0x56};
  const std::array<std::uint8_t, 4> even{0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(checksum_add(0, odd), checksum_add(0, even));
}

TEST(Checksum, AUdpDatagramOverIpv6SumsToZeroWithItsPseudoHeader) {
  // ::1 -> ::1, UDP 5353 -> 5353, 4 bytes "abcd"; checksum computed by hand below.
  const Address lo = Address::parse("::1");
  std::array<std::uint8_t, 12> udp{0x14, 0xe9, 0x14, 0xe9, 0x00, 0x0c,
                                   0x00, 0x00, 'a',  'b',  'c',  'd'};
  const std::uint32_t pseudo = pseudo_header_sum(lo, lo, 17, 12);
  const std::uint16_t sum = checksum_fold(checksum_add(pseudo, udp));
  udp[6] = static_cast<std::uint8_t>(sum >> 8);
  udp[7] = static_cast<std::uint8_t>(sum & 0xff);
  EXPECT_EQ(checksum_fold(checksum_add(pseudo, udp)), 0);
  // The same bytes between other addresses no longer check.
  EXPECT_NE(checksum_fold(checksum_add(pseudo_header_sum(lo, Address::parse("::2"), 17, 12), udp)),
            0);
}

TEST(Checksum, StatusesAreTheWordsOfTheJsonOutput) {
  EXPECT_EQ(to_string(ChecksumStatus::good), "good");
  EXPECT_EQ(to_string(ChecksumStatus::bad), "bad");
  EXPECT_EQ(to_string(ChecksumStatus::unverified), "unverified");
  EXPECT_EQ(to_string(ChecksumStatus::none), "none");
  EXPECT_EQ(to_string(ChecksumStatus::partial), "unverified (partial, offloaded)");
  EXPECT_NE(meaning(ChecksumStatus::partial).find("offload"), std::string_view::npos);
  EXPECT_EQ(meaning(ChecksumStatus::bad), "");
}

TEST(Checksum, CheckSegmentIsGoodBadOrUnverifiedWhenTheSnaplenCutIt) {
  // scapy: IP(10.0.0.1 -> 10.0.0.2)/UDP(1 -> 2)/"abcd", checksum 0x270a.
  const std::array<std::uint8_t, 12> udp{0x00, 0x01, 0x00, 0x02, 0x00, 0x0c,
                                         0x27, 0x0a, 'a',  'b',  'c',  'd'};
  const PseudoHeader ip{Address::parse("10.0.0.1"), Address::parse("10.0.0.2"), 17, 12};
  EXPECT_EQ(check_segment(udp, ip), ChecksumStatus::good);
  PseudoHeader other = ip;
  other.source = Address::parse("10.0.0.3");
  EXPECT_EQ(check_segment(udp, other), ChecksumStatus::bad);
  EXPECT_EQ(check_segment(std::span<const std::uint8_t>(udp).first(11), ip),
            ChecksumStatus::unverified);
}

TEST(Checksum, AFieldHoldingOnlyThePseudoHeaderSumIsPartialNotBad) {
  // What Linux hands a capture on lo or a veth (CHECKSUM_PARTIAL): the datagram above with
  // the field set to ~csum_tcpudp_magic(10.0.0.1, 10.0.0.2, 12, UDP, 0), the pseudo-header's
  // folded sum 0a00+0001+0a00+0002+0011+000c = 0x1420, for the NIC to finish.
  std::array<std::uint8_t, 12> udp{0x00, 0x01, 0x00, 0x02, 0x00, 0x0c,
                                   0x14, 0x20, 'a',  'b',  'c',  'd'};
  const PseudoHeader ip{Address::parse("10.0.0.1"), Address::parse("10.0.0.2"), 17, 12};
  EXPECT_EQ(check_segment(udp, ip), ChecksumStatus::bad);  // the plain check cannot tell
  EXPECT_EQ(check_offloadable(udp, ip, 0x1420), ChecksumStatus::partial);
  // Any other wrong value is bad; a right one good; a cut one unverified.
  EXPECT_EQ(check_offloadable(udp, ip, 0x1421), ChecksumStatus::bad);
  udp[6] = 0x14;
  udp[7] = 0x21;
  EXPECT_EQ(check_offloadable(udp, ip, 0x1421), ChecksumStatus::bad);
  udp[6] = 0x27;
  udp[7] = 0x0a;
  EXPECT_EQ(check_offloadable(udp, ip, 0x270a), ChecksumStatus::good);
  EXPECT_EQ(check_offloadable(std::span<const std::uint8_t>(udp).first(11), ip, 0x1420),
            ChecksumStatus::unverified);
}

}  // namespace
}  // namespace duplex::inet
