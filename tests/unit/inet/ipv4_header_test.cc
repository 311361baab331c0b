// The IPv4 header codec against packets made with scapy, checked with tshark -T json and
// tcpdump -v on the same bytes, and the malformed headers RFC 791 rules out.
#include "duplex/inet/ipv4_header.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../dissect_fields.h"

namespace duplex::inet {
namespace {

using Bytes = std::vector<std::uint8_t>;
using dissect::Problem;
using test::field_value;
using test::find_field;
using test::from_hex;

// scapy: IP(src=10.0.0.1, dst=10.0.0.2, id=7, flags=DF, tos=0xb9, options=[RR(1.2.3.4),
// Router Alert, NOP, EOL])/UDP(1000 -> 53)/20 bytes: IHL 9, total length 64.
const Bytes kWithOptions = from_hex(
    "49b900400007400040110c4b0a0000010a0000020707040102030494040000010000000003e80035001c32e2"
    "7878787878787878787878787878787878787878");
// scapy: IP(options=[Timestamp(flg=1, 1.1.1.1 at 5)])/ICMP(): IHL 8, total length 40.
const Bytes kTimestamp =
    from_hex("4800002800010000400110be0a0000010a000002440c0d0101010101000000050800f7ff00000000");
// The second of scapy's fragment(..., fragsize=48): MF set, offset 6 (48 bytes), UDP.
const Bytes kFragment = from_hex(
    "4500004400092006401146980a0000010a000002797979797979797979797979797979797979797979797979");

TEST(Ipv4Header, DecodesEveryFieldOfAHeaderWithOptions) {
  const auto h = decode_ipv4(kWithOptions);
  ASSERT_FALSE(h.problem) << h.problem.what;
  EXPECT_EQ(h.version, 4);
  EXPECT_EQ(h.ihl, 9);
  EXPECT_EQ(h.header_length, 36u);
  EXPECT_EQ(h.dscp, 46);
  EXPECT_EQ(h.ecn, 1);
  EXPECT_EQ(h.total_length, 64);
  EXPECT_EQ(h.id, 7);
  EXPECT_FALSE(h.reserved_flag);
  EXPECT_TRUE(h.dont_fragment);
  EXPECT_FALSE(h.more_fragments);
  EXPECT_EQ(h.fragment_offset, 0);
  EXPECT_FALSE(h.is_fragment());
  EXPECT_TRUE(h.first_fragment());
  EXPECT_EQ(h.ttl, 64);
  EXPECT_EQ(h.protocol, kProtocolUdp);
  EXPECT_EQ(h.checksum, 0x0c4b);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(h.source.to_string(), "10.0.0.1");
  EXPECT_EQ(h.destination.to_string(), "10.0.0.2");
  ASSERT_EQ(h.option_count, 4);
  EXPECT_EQ(h.options[0].type, 7);
  EXPECT_EQ(h.options[0].length, 7);
  EXPECT_EQ(h.options[1].type, 148);
  EXPECT_EQ(h.options[1].at, 27);
  EXPECT_EQ(h.options[2].type, 1);
  EXPECT_EQ(h.options[3].type, 0);
  EXPECT_EQ(h.payload_length, 28u);
  EXPECT_FALSE(h.payload_truncated);
  // tcpdump -v on the same packet.
  EXPECT_EQ(summary(h, kWithOptions),
            "tos 0xb9,ECT(1), ttl 64, id 7, offset 0, flags [DF], proto UDP (17), length 64, "
            "options (RR 1.2.3.4,RA,NOP,EOL)");
}

TEST(Ipv4Header, DescribeGivesTsharksKeysAndValuesWithTheirBytes) {
  const auto h = decode_ipv4(kWithOptions);
  dissect::Header out;
  describe(h, kWithOptions, 14, out);
  EXPECT_EQ(out.protocol, "IPv4");
  EXPECT_EQ(out.layer, dissect::Layer::network);
  EXPECT_EQ(out.length, 36u);
  EXPECT_EQ(out.problem, "");
  // Values as tshark -T json prints them for this packet.
  EXPECT_EQ(field_value(out, "ip.version"), "4");
  EXPECT_EQ(field_value(out, "ip.hdr_len"), "36");
  EXPECT_EQ(field_value(out, "ip.dsfield"), "0xb9");
  EXPECT_EQ(field_value(out, "ip.len"), "64");
  EXPECT_EQ(field_value(out, "ip.id"), "0x0007");
  EXPECT_EQ(field_value(out, "ip.flags"), "0x02");
  EXPECT_EQ(field_value(out, "ip.frag_offset"), "0");
  EXPECT_EQ(field_value(out, "ip.ttl"), "64");
  EXPECT_EQ(field_value(out, "ip.proto"), "17");
  EXPECT_EQ(field_value(out, "ip.checksum"), "0x0c4b");
  EXPECT_EQ(field_value(out, "ip.checksum.status"), "good");
  EXPECT_EQ(field_value(out, "ip.src"), "10.0.0.1");
  EXPECT_EQ(field_value(out, "ip.dst"), "10.0.0.2");
  const auto* ds = find_field(out, "ip.dsfield");
  EXPECT_EQ(field_value(ds->children, "ip.dsfield.dscp"), "46");
  EXPECT_EQ(field_value(ds->children, "ip.dsfield.ecn"), "1");
  const auto* flags = find_field(out, "ip.flags");
  EXPECT_EQ(field_value(flags->children, "ip.flags.df"), "1");
  EXPECT_EQ(field_value(flags->children, "ip.flags.mf"), "0");
  EXPECT_EQ(find_field(out, "ip.src")->offset, 14u + 12);
  EXPECT_EQ(find_field(out, "ip.src")->length, 4u);
  const auto* rr = find_field(out, "ip.options.record_route");
  ASSERT_NE(rr, nullptr);
  EXPECT_EQ(rr->value, "07:07:04:01:02:03:04");
  EXPECT_EQ(rr->offset, 14u + 20);
  EXPECT_EQ(field_value(rr->children, "ip.opt.ptr"), "4");
  EXPECT_EQ(field_value(rr->children, "ip.empty_rt"), "1.2.3.4");
  const auto* ra = find_field(out, "ip.options.routeralert");
  ASSERT_NE(ra, nullptr);
  EXPECT_EQ(field_value(ra->children, "ip.opt.type"), "148");
  EXPECT_EQ(field_value(ra->children, "ip.opt.ra"), "0");
  EXPECT_NE(find_field(out, "ip.options.nop"), nullptr);
  EXPECT_NE(find_field(out, "ip.options.eol"), nullptr);
}

TEST(Ipv4Header, TheTimestampOptionShowsItsAddressAndTime) {
  const auto h = decode_ipv4(kTimestamp);
  ASSERT_FALSE(h.problem);
  dissect::Header out;
  describe(h, kTimestamp, 0, out);
  const auto* ts = find_field(out, "ip.options.timestamp");
  ASSERT_NE(ts, nullptr);
  const auto& children = ts->children;
  // tshark: ptr 13, overflow 0, flag 0x01, 1.1.1.1, time stamp 5.
  EXPECT_EQ(field_value(children, "ip.opt.len"), "12");
  EXPECT_EQ(field_value(children, "ip.opt.ptr"), "13");
  EXPECT_EQ(field_value(children, "ip.opt.overflow"), "0");
  EXPECT_EQ(field_value(children, "ip.opt.flag"), "0x01");
  EXPECT_EQ(field_value(children, "ip.opt.time_stamp_addr"), "1.1.1.1");
  EXPECT_EQ(field_value(children, "ip.opt.time_stamp"), "5");
}

TEST(Ipv4Header, ANonFirstFragmentSaysSoAndCarriesNoTransportHeader) {
  const auto h = decode_ipv4(kFragment);
  ASSERT_FALSE(h.problem);
  EXPECT_TRUE(h.is_fragment());
  EXPECT_FALSE(h.first_fragment());
  EXPECT_TRUE(h.more_fragments);
  EXPECT_EQ(h.fragment_offset, 6);
  EXPECT_EQ(h.fragment_offset_bytes(), 48u);
  EXPECT_EQ(summary(h, kFragment),
            "tos 0x0, ttl 64, id 9, offset 48, flags [+], proto UDP (17), length 68");
  dissect::Header out;
  describe(h, kFragment, 0, out);
  EXPECT_EQ(field_value(out, "ip.frag_offset"), "6");  // tshark counts 8-byte units
}

TEST(Ipv4Header, ATotalLengthPastTheCaptureMarksThePayloadTruncated) {
  const std::span<const std::uint8_t> cut(kWithOptions.data(), 40);
  const auto h = decode_ipv4(cut);
  EXPECT_FALSE(h.problem);
  EXPECT_TRUE(h.payload_truncated);
  EXPECT_EQ(h.payload_length, 4u);
  dissect::Header out;
  describe(h, cut, 0, out);
  EXPECT_EQ(find_field(out, "ip.len")->meaning, "payload truncated: 40 bytes captured");
}

TEST(Ipv4Header, EthernetPaddingAfterTheTotalLengthIsNotPayload) {
  Bytes padded = kTimestamp;
  padded.resize(46, 0);
  const auto h = decode_ipv4(padded);
  EXPECT_EQ(h.payload_length, 40u - 32u);
}

TEST(Ipv4Header, ABadChecksumIsReported) {
  Bytes bad = kFragment;
  bad[11] ^= 1;
  const auto h = decode_ipv4(bad);
  EXPECT_FALSE(h.problem);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::bad);
  dissect::Header out;
  describe(h, bad, 0, out);
  EXPECT_EQ(field_value(out, "ip.checksum.status"), "bad");
}

TEST(Ipv4Header, EveryTruncatedPrefixReportsTruncated) {
  for (std::size_t n = 0; n < 36; ++n) {
    const std::span<const std::uint8_t> prefix(kWithOptions.data(), n);
    const auto h = decode_ipv4(prefix);
    EXPECT_EQ(h.problem.kind, Problem::Kind::truncated) << n;
    EXPECT_EQ(h.header_length, 0u) << n;
    dissect::Header out;
    describe(h, prefix, 0, out);
    EXPECT_NE(out.problem, "") << n;
    for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, n) << f.key;
  }
}

TEST(Ipv4Header, IhlBelowFiveIsMalformed) {
  Bytes b = kFragment;
  b[0] = 0x44;
  const auto h = decode_ipv4(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(h.problem.what, "IHL is below 5 (20 bytes)");
}

TEST(Ipv4Header, ATotalLengthShorterThanTheHeaderIsMalformed) {
  Bytes b = kWithOptions;
  b[2] = 0;
  b[3] = 30;  // IHL says 36
  const auto h = decode_ipv4(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_EQ(h.problem.at, 2u);
}

TEST(Ipv4Header, AnOptionLengthRunningPastTheHeaderIsMalformed) {
  Bytes b = kWithOptions;
  b[21] = 20;  // record route claims 20 bytes; 16 option bytes in all
  auto h = decode_ipv4(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_EQ(h.problem.at, 21u);
  b[21] = 1;  // below the minimum of 2
  h = decode_ipv4(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  // A describe of a malformed header still shows the fixed fields.
  dissect::Header out;
  describe(h, b, 0, out);
  EXPECT_EQ(field_value(out, "ip.src"), "10.0.0.1");
  EXPECT_NE(out.problem, "");
}

TEST(Ipv4Header, AnOptionWhoseLengthByteIsPastTheHeaderIsMalformed) {
  Bytes b = kWithOptions;
  std::fill(b.begin() + 31, b.begin() + 35, 1);  // NOPs instead of EOL and its padding
  b[35] = 7;  // the last option byte starts a record route with no length byte
  const auto h = decode_ipv4(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_EQ(h.problem.at, 35u);
}

TEST(Ipv4Header, AnotherVersionIsMalformed) {
  Bytes b = kFragment;
  b[0] = 0x65;
  EXPECT_EQ(decode_ipv4(b).problem.kind, Problem::Kind::malformed);
}

TEST(Ipv4Header, TheFinalDestinationOfASourceRouteIsItsLastAddressWhileHopsRemain) {
  // scapy: IP(10.99.0.1 -> 10.99.0.2, options=[LSRR(10.99.0.3, 10.99.0.4)])/UDP(1 -> 2)/"x",
  // pointer 4 (no hop visited), then 12 (past the route: done). tshark checks the UDP
  // checksum of the first against 10.99.0.4, and finds it good.
  Bytes routed = from_hex(
      "480000290001000040110edb0a6300010a630002830b040a6300030a63000400000100020009730e78");
  EXPECT_EQ(final_destination(decode_ipv4(routed), routed).to_string(), "10.99.0.4");
  routed[22] = 12;
  EXPECT_EQ(final_destination(decode_ipv4(routed), routed).to_string(), "10.99.0.2");
  EXPECT_EQ(final_destination(decode_ipv4(kWithOptions), kWithOptions).to_string(), "10.0.0.2");
}

TEST(Ipv4Header, ProtocolsAreNamedAsTcpdumpNamesThem) {
  EXPECT_EQ(protocol_name(1), "ICMP");
  EXPECT_EQ(protocol_name(6), "TCP");
  EXPECT_EQ(protocol_name(17), "UDP");
  EXPECT_EQ(protocol_name(58), "ICMPv6");
  EXPECT_EQ(protocol_name(253), "");
}

}  // namespace
}  // namespace duplex::inet
