// The TCP header against segments made with scapy, checked with tshark -T json (raw sequence
// numbers, checksums verified) and tcpdump -nn -S on the same bytes.
#include "duplex/transport/tcp_header.h"

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

// scapy: IP(10.0.0.1 -> 10.0.0.2)/TCP(443 -> 40000, seq=1, ack=2, flags="SA", window=65535,
// options=[MSS 1460, SAckOK, Timestamp (1, 0), NOP, WScale 7]).
const Bytes kSynAck =
    from_hex("01bb9c400000000100000002a012ffff95ee0000020405b40402080a000000010000000001030307");
// scapy: IP(10.0.0.2 -> 10.0.0.1)/TCP(40000 -> 443, seq=1000, ack=2000, flags="PA",
// window=502, options=[NOP, NOP, SAck (3000, 4000, 5000, 6000)])/"hello".
const Bytes kData = from_hex(
    "9c4001bb000003e8000007d0a01801f60fd200000101051200000bb800000fa0000013880000177068656c6c6f");
// scapy: IP(10.0.0.2 -> 10.0.0.1)/TCP(1 -> 2, seq=0xfffffffe, ack=7, flags="FSRPAUECN",
// window=1, urgptr=5, options=[(99, "\xab\xcd"), EOL]).
const Bytes kAllFlags = from_hex("00010002fffffffe0000000771ff00016afa00056304abcd00000000");
// scapy: IPv6(fe80::1 -> fe80::2)/TCP(22 -> 50000, seq=5, ack=6, flags="A", window=100).
const Bytes kIpv6Ack = from_hex("0016c350000000050000000650100064eefa0000");

PseudoHeader over_ipv4(const char* src, const char* dst, std::size_t length) {
  return {Address::parse(src), Address::parse(dst), 6, static_cast<std::uint32_t>(length)};
}

TEST(TcpHeader, DecodesASynAckWithTheUsualOptions) {
  const auto h = decode_tcp(kSynAck, over_ipv4("10.0.0.1", "10.0.0.2", kSynAck.size()));
  ASSERT_FALSE(h.problem) << h.problem.what;
  EXPECT_EQ(h.source_port, 443);
  EXPECT_EQ(h.destination_port, 40000);
  EXPECT_EQ(h.sequence, 1u);
  EXPECT_EQ(h.acknowledgment, 2u);
  EXPECT_EQ(h.data_offset, 10);
  EXPECT_EQ(h.header_length, 40u);
  EXPECT_EQ(h.flags, kTcpSyn | kTcpAck);
  EXPECT_EQ(h.window, 65535);
  EXPECT_EQ(h.checksum, 0x95ee);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  ASSERT_EQ(h.option_count, 5);
  EXPECT_TRUE(h.has_mss);
  EXPECT_EQ(h.mss, 1460);
  EXPECT_TRUE(h.sack_permitted);
  EXPECT_TRUE(h.has_timestamps);
  EXPECT_EQ(h.ts_value, 1u);
  EXPECT_EQ(h.ts_echo, 0u);
  EXPECT_TRUE(h.has_window_scale);
  EXPECT_EQ(h.window_scale, 7);
  EXPECT_EQ(h.payload_length, 0u);
  // tcpdump -nn -S.
  EXPECT_EQ(summary(h, kSynAck),
            "Flags [S.], seq 1, ack 2, win 65535, options [mss 1460,sackOK,TS val 1 ecr 0,nop,"
            "wscale 7], length 0");
}

TEST(TcpHeader, DescribesItsFieldsWithWiresharksKeys) {
  const auto h = decode_tcp(kSynAck, over_ipv4("10.0.0.1", "10.0.0.2", kSynAck.size()));
  dissect::Header out;
  describe(h, kSynAck, 34, out);
  EXPECT_EQ(out.protocol, "TCP");
  EXPECT_EQ(out.layer, dissect::Layer::transport);
  EXPECT_EQ(out.length, 40u);
  EXPECT_EQ(out.problem, "");
  EXPECT_EQ(field_value(out, "tcp.srcport"), "443");
  EXPECT_EQ(field_value(out, "tcp.dstport"), "40000");
  EXPECT_EQ(field_value(out, "tcp.seq_raw"), "1");
  EXPECT_EQ(field_value(out, "tcp.ack_raw"), "2");
  EXPECT_EQ(find_field(out, "tcp.ack_raw")->offset, 34u + 8);
  EXPECT_EQ(field_value(out, "tcp.hdr_len"), "40");
  EXPECT_EQ(field_value(out, "tcp.flags"), "0x0012");
  EXPECT_EQ(find_field(out, "tcp.flags")->meaning, "SYN, ACK");
  const auto& flags = find_field(out, "tcp.flags")->children;
  EXPECT_EQ(field_value(flags, "tcp.flags.syn"), "1");
  EXPECT_EQ(field_value(flags, "tcp.flags.ack"), "1");
  EXPECT_EQ(field_value(flags, "tcp.flags.fin"), "0");
  EXPECT_EQ(field_value(flags, "tcp.flags.ae"), "0");
  EXPECT_EQ(field_value(flags, "tcp.flags.str"), "·······A··S·");
  EXPECT_EQ(field_value(out, "tcp.window_size_value"), "65535");
  EXPECT_EQ(field_value(out, "tcp.checksum"), "0x95ee");
  EXPECT_EQ(field_value(out, "tcp.checksum.status"), "good");
  EXPECT_EQ(field_value(out, "tcp.urgent_pointer"), "0");
  EXPECT_EQ(field_value(out, "tcp.len"), "0");
  EXPECT_EQ(field_value(out, "tcp.options"),
            "02:04:05:b4:04:02:08:0a:00:00:00:01:00:00:00:00:01:03:03:07");
  const auto& options = find_field(out, "tcp.options")->children;
  ASSERT_EQ(options.size(), 5u);
  EXPECT_EQ(options[0].key, "tcp.options.mss");
  EXPECT_EQ(options[0].value, "02:04:05:b4");
  EXPECT_EQ(options[0].offset, 34u + 20);
  EXPECT_EQ(field_value(options[0].children, "tcp.option_kind"), "2");
  EXPECT_EQ(field_value(options[0].children, "tcp.option_len"), "4");
  EXPECT_EQ(field_value(options[0].children, "tcp.options.mss_val"), "1460");
  EXPECT_EQ(options[1].key, "tcp.options.sack_perm");
  EXPECT_EQ(options[2].key, "tcp.options.timestamp");
  EXPECT_EQ(field_value(options[2].children, "tcp.options.timestamp.tsval"), "1");
  EXPECT_EQ(field_value(options[2].children, "tcp.options.timestamp.tsecr"), "0");
  EXPECT_EQ(options[3].key, "tcp.options.nop");
  EXPECT_EQ(options[4].key, "tcp.options.wscale");
  EXPECT_EQ(field_value(options[4].children, "tcp.options.wscale.shift"), "7");
  EXPECT_EQ(field_value(options[4].children, "tcp.options.wscale.multiplier"), "128");
}

TEST(TcpHeader, DataCarriesSackBlocksAndItsPayload) {
  const auto h = decode_tcp(kData, over_ipv4("10.0.0.2", "10.0.0.1", kData.size()));
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(h.flags, kTcpPsh | kTcpAck);
  ASSERT_EQ(h.sack_count, 2);
  EXPECT_EQ(h.sack[0].left, 3000u);
  EXPECT_EQ(h.sack[0].right, 4000u);
  EXPECT_EQ(h.sack[1].left, 5000u);
  EXPECT_EQ(h.sack[1].right, 6000u);
  EXPECT_EQ(h.payload_length, 5u);
  EXPECT_EQ(h.payload_captured, 5u);
  EXPECT_EQ(std::string(kData.begin() + h.header_length, kData.end()), "hello");
  EXPECT_EQ(summary(h, kData),
            "Flags [P.], seq 1000:1005, ack 2000, win 502, options [nop,nop,sack 2 "
            "{3000:4000}{5000:6000}], length 5");
  // Made relative by a caller that tracks the connection (both bases 1): tcpdump -nn without
  // -S shows the SACK edges relative to the acknowledgment's base.
  auto relative = h;
  relative.sequence -= 1;
  relative.acknowledgment -= 1;
  EXPECT_EQ(summary(relative, kData),
            "Flags [P.], seq 999:1004, ack 1999, win 502, options [nop,nop,sack 2 "
            "{2999:3999}{4999:5999}], length 5");
  dissect::Header out;
  describe(h, kData, 0, out);
  EXPECT_EQ(field_value(out, "tcp.flags"), "0x0018");
  EXPECT_EQ(find_field(out, "tcp.flags")->meaning, "PSH, ACK");
  EXPECT_EQ(field_value(out, "tcp.len"), "5");
  const auto& sack = test::find_field(find_field(out, "tcp.options")->children, "tcp.options.sack");
  ASSERT_NE(sack, nullptr);
  EXPECT_EQ(field_value(sack->children, "tcp.options.sack_le", 1), "5000");
  EXPECT_EQ(field_value(sack->children, "tcp.options.sack_re", 1), "6000");
  EXPECT_EQ(field_value(sack->children, "tcp.options.sack.count"), "2");
}

TEST(TcpHeader, EveryFlagIncludingAeAndAnUnknownOptionKeptWithItsKindAndLength) {
  const auto h = decode_tcp(kAllFlags, over_ipv4("10.0.0.2", "10.0.0.1", kAllFlags.size()));
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(h.flags, 0x1ff);
  for (auto flag : {kTcpFin, kTcpSyn, kTcpRst, kTcpPsh, kTcpAck, kTcpUrg, kTcpEce, kTcpCwr, kTcpAe})
    EXPECT_TRUE(h.has(flag)) << flag;
  EXPECT_EQ(h.urgent_pointer, 5);
  ASSERT_EQ(h.option_count, 2);  // the unknown option and EOL; the padding is not walked
  EXPECT_EQ(h.options[0].kind, 99);
  EXPECT_EQ(h.options[0].length, 4);
  EXPECT_EQ(h.options[1].kind, kTcpOptionEol);
  // tcpdump 4.99 has no letter for AE.
  EXPECT_EQ(summary(h, kAllFlags),
            "Flags [FSRP.UEW], seq 4294967294, ack 7, win 1, urg 5, options [unknown-99 "
            "0xabcd,eol], length 0");
  dissect::Header out;
  describe(h, kAllFlags, 0, out);
  EXPECT_EQ(field_value(out, "tcp.flags"), "0x01ff");
  const auto& flags = find_field(out, "tcp.flags")->children;
  for (const char* key :
       {"tcp.flags.ae", "tcp.flags.cwr", "tcp.flags.ece", "tcp.flags.urg", "tcp.flags.ack",
        "tcp.flags.push", "tcp.flags.reset", "tcp.flags.syn", "tcp.flags.fin"})
    EXPECT_EQ(field_value(flags, key), "1") << key;
  EXPECT_EQ(field_value(flags, "tcp.flags.res"), "0");
  EXPECT_EQ(field_value(flags, "tcp.flags.str"), "···ACEUAPRSF");
  EXPECT_EQ(field_value(out, "tcp.urgent_pointer"), "5");
  const auto& unknown = find_field(out, "tcp.options")->children.at(0);
  EXPECT_EQ(unknown.key, "tcp.options.unknown");
  EXPECT_EQ(field_value(unknown.children, "tcp.option_kind"), "99");
  EXPECT_EQ(field_value(unknown.children, "tcp.option_len"), "4");
  EXPECT_EQ(field_value(unknown.children, "tcp.options.unknown.payload"), "ab:cd");
}

TEST(TcpHeader, TheChecksumIsCheckedOverIpv6AndToldBadOrUnverified) {
  const PseudoHeader v6{Address::parse("fe80::1"), Address::parse("fe80::2"), 6, 20};
  const auto h = decode_tcp(kIpv6Ack, v6);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(summary(h, kIpv6Ack), "Flags [.], ack 6, win 100, length 0");  // no seq: tcpdump's
  // The same bytes between other addresses, or with a byte changed, do not check.
  PseudoHeader other = v6;
  other.destination = Address::parse("fe80::3");
  EXPECT_EQ(decode_tcp(kIpv6Ack, other).checksum_status, ChecksumStatus::bad);
  Bytes changed = kData;
  changed.back() ^= 1;
  EXPECT_EQ(decode_tcp(changed, over_ipv4("10.0.0.2", "10.0.0.1", changed.size())).checksum_status,
            ChecksumStatus::bad);
  // A snaplen that cut the payload leaves the checksum unverified; without addresses too.
  const std::span<const std::uint8_t> cut(kData.data(), kData.size() - 2);
  const auto h2 = decode_tcp(cut, over_ipv4("10.0.0.2", "10.0.0.1", kData.size()));
  EXPECT_FALSE(h2.problem);
  EXPECT_EQ(h2.checksum_status, ChecksumStatus::unverified);
  EXPECT_EQ(h2.payload_length, 5u);
  EXPECT_EQ(h2.payload_captured, 3u);
  EXPECT_EQ(summary(h2, cut), summary(decode_tcp(kData), kData));
  EXPECT_EQ(decode_tcp(kData).checksum_status, ChecksumStatus::unverified);
}

TEST(TcpHeader, AnOffloadedChecksumIsPartialNotBad) {
  // kSynAck as Linux hands it to a capture on lo or a veth: the checksum field holds only
  // the pseudo-header's sum (10.0.0.1 -> 10.0.0.2, TCP, 40 bytes: 0x1431), the NIC's job.
  Bytes partial = kSynAck;
  partial[16] = 0x14;
  partial[17] = 0x31;
  const auto h = decode_tcp(partial, over_ipv4("10.0.0.1", "10.0.0.2", partial.size()));
  EXPECT_EQ(h.checksum_status, ChecksumStatus::partial);
  dissect::Header out;
  describe(h, partial, 34, out);
  EXPECT_EQ(field_value(out, "tcp.checksum.status"), "unverified (partial, offloaded)");
  EXPECT_NE(find_field(out, "tcp.checksum.status")->meaning.find("offload"), std::string::npos);
  // Between other addresses the same field is simply wrong.
  EXPECT_EQ(decode_tcp(partial, over_ipv4("10.0.0.1", "10.0.0.3", partial.size())).checksum_status,
            ChecksumStatus::bad);
}

TEST(TcpHeader, ADataOffsetBelowFiveIsMalformed) {
  // scapy: TCP(1 -> 2, dataofs=4, flags="S"); tcpdump: "tcp 4 [bad hdr length 16 ...]".
  const Bytes b = from_hex("000100020000000000000000400220008bdd0000");
  const auto h = decode_tcp(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_EQ(h.problem.at, 12u);
  EXPECT_EQ(h.header_length, 0u);
  EXPECT_EQ(h.source_port, 1);  // the fields before it are kept
  EXPECT_EQ(summary(h, b), "tcp 4 [bad hdr length 16 - too short, < 20]");
  dissect::Header out;
  describe(h, b, 0, out);
  EXPECT_EQ(out.problem,
            "malformed at byte 12 of the header: the data offset is below 5 (20 bytes)");
  EXPECT_EQ(field_value(out, "tcp.hdr_len"), "16");
  EXPECT_EQ(find_field(out, "tcp.len"), nullptr);
}

TEST(TcpHeader, ADataOffsetPastTheSegmentIsMalformed) {
  // scapy: TCP(1 -> 2, dataofs=15, flags="S")/8 bytes: 28 bytes, a header of 60.
  const Bytes b = from_hex("000100020000000000000000f0022000f9f200007878787878787878");
  const auto h = decode_tcp(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_EQ(h.problem.at, 12u);
  EXPECT_EQ(summary(h, b), "Flags [S] [bad hdr length 60 - too long, > 28]");
  // Past the captured bytes but inside the segment: truncated instead.
  const auto cut = decode_tcp(b, 80);
  EXPECT_EQ(cut.problem.kind, Problem::Kind::truncated);
  EXPECT_EQ(cut.problem.at, 28u);
}

TEST(TcpHeader, MalformedOptionLengthsAreNamed) {
  struct Case {
    const char* hex;
    const char* what;
    std::uint32_t at;
    const char* options;  // tcpdump -nn -S
  };
  const Case cases[] = {
      // An MSS option of length 0, then of length 1 after a NOP, then a length past the header.
      {"0001000200000000000000006002200069d9000002000000", "a TCP option length is below 2", 21,
       "options [[bad opt]"},
      {"0001000200000000000000006002200069d7000001020100", "a TCP option length is below 2", 22,
       "options [nop,[bad opt]]"},
      {"0001000200000000000000006002200062d7000001020800",
       "a TCP option's length runs past the header", 22, "options [nop,[bad opt]]"},
      // A kind and no room for its length byte.
      {"0001000200000000000000006002200062d7000001010102",
       "a TCP option's length byte is past the header", 23, "options [nop,nop,nop,[bad opt]]"},
  };
  for (const auto& c : cases) {
    const Bytes b = from_hex(c.hex);
    const auto h = decode_tcp(b);
    EXPECT_EQ(h.problem.kind, Problem::Kind::malformed) << c.hex;
    EXPECT_STREQ(h.problem.what, c.what) << c.hex;
    EXPECT_EQ(h.problem.at, c.at) << c.hex;
    EXPECT_EQ(summary(h, b), std::string("Flags [S], seq 0, win 8192, ") + c.options);
    dissect::Header out;
    describe(h, b, 0, out);
    EXPECT_NE(out.problem, "");
    for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, b.size()) << f.key;
  }
}

TEST(TcpHeader, AKnownOptionOfTheWrongLengthIsMalformedButTheWalkGoesOn) {
  // scapy: TCP(flags="S", options=[(2, "")]): an MSS option of length 2, then EOL padding.
  // tcpdump reads the padding as the MSS ("mss 0[len 2]"); we follow the option's length, as
  // Wireshark does.
  const Bytes b = from_hex("0001000200000000000000006002200069d7000002020000");
  const auto h = decode_tcp(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(h.problem.what, "the MSS option's length is not 4");
  EXPECT_EQ(h.problem.at, 21u);
  EXPECT_FALSE(h.has_mss);
  ASSERT_EQ(h.option_count, 2);
  EXPECT_EQ(h.options[1].kind, kTcpOptionEol);
  EXPECT_EQ(summary(h, b), "Flags [S], seq 0, win 8192, options [mss[len 2],eol], length 0");
}

TEST(TcpHeader, EveryTruncatedPrefixKeepsWhatItHadAndNeverReadsPast) {
  for (const Bytes* segment : {&kSynAck, &kData, &kAllFlags}) {
    const auto length = static_cast<std::uint32_t>(segment->size());
    const auto whole = decode_tcp(*segment).header_length;
    for (std::size_t n = 0; n < segment->size(); ++n) {
      const std::span<const std::uint8_t> prefix(segment->data(), n);
      const auto h = decode_tcp(prefix, length);
      if (n < whole) {
        EXPECT_EQ(h.problem.kind, Problem::Kind::truncated) << n;
        EXPECT_EQ(h.problem.at, n);
        EXPECT_EQ(h.header_length, 0u);
      } else {
        EXPECT_FALSE(h.problem) << n;
        EXPECT_EQ(h.payload_captured, n - whole);
      }
      if (n >= 2) {
        EXPECT_EQ(h.source_port, decode_tcp(*segment).source_port);
      }
      dissect::Header out;
      describe(h, prefix, 0, out);
      EXPECT_EQ(out.problem.empty(), n >= whole) << n;
      for (const auto& f : out.fields) {
        EXPECT_LE(f.offset + f.length, n) << f.key << " " << n;
        for (const auto& option : f.children)
          for (const auto& c : option.children) EXPECT_LE(c.offset + c.length, n) << c.key << n;
      }
      const auto text = summary(h, prefix);
      EXPECT_FALSE(text.empty());
      if (n < 20) {
        EXPECT_EQ(text, "[|tcp]");
      }
    }
  }
}

TEST(TcpHeader, RandomBytesNeverMakeAFieldPastTheCapture) {
  // Deterministic: a failure names its round. Data offsets of 5 to 15 are made common, so that
  // the option walk sees every kind of garbage.
  std::mt19937 random(11);
  for (int round = 0; round < 20000; ++round) {
    Bytes b(random() % 72);
    for (auto& byte : b) byte = static_cast<std::uint8_t>(random());
    if (b.size() > 12 && round % 2 == 0)
      b[12] = static_cast<std::uint8_t>((5 + random() % 11) << 4);
    const auto length = static_cast<std::uint32_t>(b.size() + random() % 3 * (random() % 40));
    const auto h = decode_tcp(b, over_ipv4("10.0.0.1", "10.0.0.2", length));
    if (h.header_length != 0) {
      EXPECT_LE(h.header_length, b.size()) << round;
    }
    dissect::Header out;
    describe(h, b, 0, out);
    test::expect_fields_inside(out.fields, b.size(), std::to_string(round));
    EXPECT_FALSE(summary(h, b).empty());
  }
}

TEST(TcpHeader, AHeaderCutInsideItsOptionsKeepsTheOptionsCapturedWhole) {
  // 34 bytes of kSynAck: MSS and SACK-permitted whole, the timestamps cut after TSval
  // (tshark -T json shows the same: mss_val, sack_perm, and the timestamps' kind, length and
  // tsval).
  const std::span<const std::uint8_t> prefix(kSynAck.data(), 34);
  const auto h = decode_tcp(prefix, static_cast<std::uint32_t>(kSynAck.size()));
  EXPECT_EQ(h.problem.kind, Problem::Kind::truncated);
  EXPECT_EQ(h.header_length, 0u);
  EXPECT_TRUE(h.has_mss);
  EXPECT_TRUE(h.sack_permitted);
  EXPECT_FALSE(h.has_timestamps);
  dissect::Header out;
  describe(h, prefix, 0, out);
  const auto* options = find_field(out, "tcp.options");
  ASSERT_NE(options, nullptr);
  EXPECT_EQ(options->length, 14u);
  ASSERT_NE(find_field(options->children, "tcp.options.mss"), nullptr);
  EXPECT_EQ(field_value(find_field(options->children, "tcp.options.mss")->children,
                        "tcp.options.mss_val"),
            "1460");
  const auto* timestamps = find_field(options->children, "tcp.options.timestamp");
  ASSERT_NE(timestamps, nullptr);
  EXPECT_EQ(timestamps->length, 8u);
  EXPECT_EQ(field_value(timestamps->children, "tcp.option_len"), "10");
  EXPECT_EQ(field_value(timestamps->children, "tcp.options.timestamp.tsval"), "1");
  EXPECT_EQ(find_field(timestamps->children, "tcp.options.timestamp.tsecr"), nullptr);
  EXPECT_EQ(find_field(out, "tcp.len"), nullptr);
  EXPECT_EQ(summary(h, prefix), "Flags [S.], seq 1, ack 2, win 65535 [|tcp]");
}

TEST(TcpHeader, FlagsTextIsTcpdumps) {
  EXPECT_EQ(tcp_flags_text(0), "none");
  EXPECT_EQ(tcp_flags_text(kTcpSyn), "S");
  EXPECT_EQ(tcp_flags_text(kTcpFin | kTcpAck), "F.");
  EXPECT_EQ(tcp_flags_text(kTcpRst | kTcpAck), "R.");
  EXPECT_EQ(tcp_flags_text(kTcpSyn | kTcpEce | kTcpCwr), "SEW");
  EXPECT_EQ(tcp_option_name(kTcpOptionMss), "Maximum segment size");
  EXPECT_EQ(tcp_option_name(99), "");
}

}  // namespace
}  // namespace duplex::transport
