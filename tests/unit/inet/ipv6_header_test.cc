// The IPv6 header and its extension header chain against packets made with scapy, checked
// with tshark -T json and tcpdump -v on the same bytes.
#include "duplex/inet/ipv6_header.h"

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

// scapy: IPv6(2001:db8::1 -> ::2, tc=0xb9, fl=0x12345)/HopByHop(RouterAlert, PadN)/
// Routing(type 0, ::3, ::4, segleft 1)/Fragment(offset 0, M, id 0x1234)/
// DestOpt(Pad1, Pad1, PadN)/UDP(1 -> 2)/"abcd".
const Bytes kChain = from_hex(
    "6b9123450054004020010db800000000000000000000000120010db8000000000000000000000002"
    "2b01050200000102000001040000000"
    "02c0400010000000020010db800000000000000000000000320010db8000000000000000000000004"
    "3c00000100001234"
    "1100000001020000"
    "000100020"
    "00cdf9561626364");
// scapy: IPv6()/SegmentRouting(::5, ::6, segleft 1, tag 7)/ICMPv6EchoRequest(id 1, seq 2).
const Bytes kSrh = from_hex(
    "6000000000302b4020010db800000000000000000000000120010db8000000000000000000000002"
    "3a0404010100000720010db800000000000000000000000520010db8000000000000000000000006"
    "8000244200010002");
// scapy: IPv6()/Fragment(offset 100, last, id 0x99, nh UDP)/8 bytes.
const Bytes kLaterFragment = from_hex(
    "6000000000102c4020010db800000000000000000000000120010db8000000000000000000000002"
    "11000320000000997a7a7a7a7a7a7a7a");

TEST(Ipv6Header, WalksTheWholeExtensionChainToTheTransportHeader) {
  ASSERT_EQ(kChain.size(), 124u);
  const auto h = decode_ipv6(kChain);
  ASSERT_FALSE(h.problem) << h.problem.what << " at " << h.problem.at;
  EXPECT_EQ(h.version, 6);
  EXPECT_EQ(h.traffic_class, 0xb9);
  EXPECT_EQ(h.dscp(), 46);
  EXPECT_EQ(h.ecn(), 1);
  EXPECT_EQ(h.flow_label, 0x12345u);
  EXPECT_EQ(h.payload_length, 84);
  EXPECT_EQ(h.next_header, 0);
  EXPECT_EQ(h.hop_limit, 64);
  EXPECT_EQ(h.source.to_string(), "2001:db8::1");
  EXPECT_EQ(h.destination.to_string(), "2001:db8::2");
  ASSERT_EQ(h.extension_count, 4);
  EXPECT_EQ(h.extensions[0].type, 0);
  EXPECT_EQ(h.extensions[0].length, 16u);
  EXPECT_EQ(h.extensions[1].type, 43);
  EXPECT_EQ(h.extensions[1].at, 56u);
  EXPECT_EQ(h.extensions[1].length, 40u);
  EXPECT_EQ(h.extensions[2].type, 44);
  EXPECT_EQ(h.extensions[3].type, 60);
  EXPECT_TRUE(h.is_fragment());
  EXPECT_TRUE(h.first_fragment());
  EXPECT_TRUE(h.more_fragments);
  EXPECT_EQ(h.fragment_id, 0x1234u);
  EXPECT_EQ(h.final_next_header, kProtocolUdp);
  EXPECT_EQ(h.header_length, 112u);
  EXPECT_EQ(h.payload_bytes, 12u);
  EXPECT_EQ(summary(h),
            "class 0xb9, flowlabel 0x12345, hlim 64, next-header Options (0) payload length: 84");
}

TEST(Ipv6Header, DescribeGivesTsharksKeysAndValues) {
  const auto h = decode_ipv6(kChain);
  dissect::Header out;
  describe(h, kChain, 14, out);
  EXPECT_EQ(out.protocol, "IPv6");
  EXPECT_EQ(out.length, 112u);
  EXPECT_EQ(field_value(out, "ipv6.version"), "6");
  EXPECT_EQ(field_value(out, "ipv6.tclass"), "0x000000b9");
  EXPECT_EQ(field_value(find_field(out, "ipv6.tclass")->children, "ipv6.tclass.dscp"), "46");
  EXPECT_EQ(field_value(out, "ipv6.flow"), "0x012345");
  EXPECT_EQ(field_value(out, "ipv6.plen"), "84");
  EXPECT_EQ(field_value(out, "ipv6.nxt"), "0");
  EXPECT_EQ(field_value(out, "ipv6.hlim"), "64");
  EXPECT_EQ(field_value(out, "ipv6.src"), "2001:db8::1");
  EXPECT_EQ(field_value(out, "ipv6.dst"), "2001:db8::2");
  EXPECT_EQ(find_field(out, "ipv6.dst")->offset, 14u + 24);
  const auto& hop = find_field(out, "ipv6.hopopts")->children;
  EXPECT_EQ(field_value(hop, "ipv6.hopopts.nxt"), "43");
  EXPECT_EQ(field_value(hop, "ipv6.hopopts.len"), "1");
  EXPECT_EQ(field_value(hop, "ipv6.hopopts.len_oct"), "16");
  const auto& alert = find_field(hop, "ipv6.opt", 0)->children;
  EXPECT_EQ(field_value(alert, "ipv6.opt.type"), "0x05");
  EXPECT_EQ(field_value(alert, "ipv6.opt.router_alert"), "0");
  const auto& padn = find_field(hop, "ipv6.opt", 2)->children;  // after a PadN of 2
  EXPECT_EQ(field_value(padn, "ipv6.opt.type"), "0x01");
  EXPECT_EQ(field_value(padn, "ipv6.opt.length"), "4");
  EXPECT_EQ(field_value(padn, "ipv6.opt.padn"), "00:00:00:00");
  const auto& rt = find_field(out, "ipv6.routing")->children;
  EXPECT_EQ(field_value(rt, "ipv6.routing.nxt"), "44");
  EXPECT_EQ(field_value(rt, "ipv6.routing.len"), "4");
  EXPECT_EQ(field_value(rt, "ipv6.routing.type"), "0");
  EXPECT_EQ(field_value(rt, "ipv6.routing.segleft"), "1");
  EXPECT_EQ(field_value(rt, "ipv6.routing.src.addr", 0), "2001:db8::3");
  EXPECT_EQ(field_value(rt, "ipv6.routing.src.addr", 1), "2001:db8::4");
  const auto& frag = find_field(out, "ipv6.fraghdr")->children;
  EXPECT_EQ(field_value(frag, "ipv6.fraghdr.nxt"), "60");
  EXPECT_EQ(field_value(frag, "ipv6.fraghdr.offset"), "0");
  EXPECT_EQ(field_value(frag, "ipv6.fraghdr.more"), "1");
  EXPECT_EQ(field_value(frag, "ipv6.fraghdr.ident"), "0x00001234");
  const auto& dst = find_field(out, "ipv6.dstopts")->children;
  EXPECT_EQ(field_value(dst, "ipv6.dstopts.nxt"), "17");
  EXPECT_EQ(field_value(find_field(dst, "ipv6.opt", 0)->children, "ipv6.opt.type"), "0x00");
  EXPECT_EQ(find_field(dst, "ipv6.opt", 2)->offset, 14u + 104 + 4);
}

TEST(Ipv6Header, TheSegmentRoutingHeaderListsItsSegments) {
  const auto h = decode_ipv6(kSrh);
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.final_next_header, kProtocolIcmpv6);
  EXPECT_EQ(h.header_length, 80u);
  dissect::Header out;
  describe(h, kSrh, 0, out);
  const auto& rt = find_field(out, "ipv6.routing")->children;
  EXPECT_EQ(field_value(rt, "ipv6.routing.type"), "4");
  EXPECT_EQ(field_value(rt, "ipv6.routing.srh.last_entry"), "1");
  EXPECT_EQ(field_value(rt, "ipv6.routing.srh.tag"), "7");
  EXPECT_EQ(field_value(rt, "ipv6.routing.srh.addr", 0), "2001:db8::5");
  EXPECT_EQ(field_value(rt, "ipv6.routing.srh.addr", 1), "2001:db8::6");
  EXPECT_EQ(summary(h), "hlim 64, next-header Routing (43) payload length: 48");
}

TEST(Ipv6Header, ALaterFragmentEndsTheChainAtItsFragmentHeader) {
  const auto h = decode_ipv6(kLaterFragment);
  ASSERT_FALSE(h.problem);
  EXPECT_TRUE(h.is_fragment());
  EXPECT_FALSE(h.first_fragment());
  EXPECT_EQ(h.fragment_offset, 100);
  EXPECT_FALSE(h.more_fragments);
  EXPECT_EQ(h.fragment_id, 0x99u);
  EXPECT_EQ(h.final_next_header, kProtocolUdp);
  EXPECT_EQ(h.header_length, 48u);
  EXPECT_EQ(h.payload_bytes, 8u);
}

TEST(Ipv6Header, EveryTruncatedPrefixReportsTruncated) {
  for (std::size_t n = 0; n < 112; ++n) {
    const std::span<const std::uint8_t> prefix(kChain.data(), n);
    const auto h = decode_ipv6(prefix);
    EXPECT_EQ(h.problem.kind, Problem::Kind::truncated) << n;
    dissect::Header out;
    describe(h, prefix, 0, out);
    EXPECT_NE(out.problem, "") << n;
    for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, n) << f.key;
  }
}

void expect_inside(const std::vector<dissect::Field>& fields, std::size_t n) {
  for (const auto& f : fields) {
    EXPECT_LE(f.offset + f.length, n) << f.key;
    expect_inside(f.children, n);
  }
}

TEST(Ipv6Header, AChainCutInsideAnExtensionHeaderShowsWhatWasCaptured) {
  // 59 bytes: the routing header (at 56) has its next header, length and type, not the rest;
  // tshark -T json shows the same three.
  const std::span<const std::uint8_t> cut(kChain.data(), 59);
  const auto h = decode_ipv6(cut);
  EXPECT_EQ(h.problem.kind, Problem::Kind::truncated);
  EXPECT_EQ(h.header_length, 0u);
  dissect::Header out;
  describe(h, cut, 0, out);
  const auto* routing = find_field(out, "ipv6.routing");
  ASSERT_NE(routing, nullptr);
  EXPECT_EQ(routing->value, "40");
  EXPECT_EQ(routing->length, 3u);
  EXPECT_EQ(field_value(routing->children, "ipv6.routing.nxt"), "44");
  EXPECT_EQ(field_value(routing->children, "ipv6.routing.len"), "4");
  EXPECT_EQ(field_value(routing->children, "ipv6.routing.type"), "0");
  EXPECT_EQ(find_field(routing->children, "ipv6.routing.segleft"), nullptr);

  // 109 bytes: the destination options header (at 104) keeps Pad1, Pad1 and the type of the
  // PadN whose length byte was cut.
  const std::span<const std::uint8_t> in_option(kChain.data(), 109);
  dissect::Header opts;
  describe(decode_ipv6(in_option), in_option, 0, opts);
  const auto* dst = find_field(opts, "ipv6.dstopts");
  ASSERT_NE(dst, nullptr);
  EXPECT_EQ(field_value(dst->children, "ipv6.dstopts.nxt"), "17");
  ASSERT_NE(find_field(dst->children, "ipv6.opt", 2), nullptr);
  EXPECT_EQ(field_value(find_field(dst->children, "ipv6.opt", 2)->children, "ipv6.opt.type"),
            "0x01");
  EXPECT_EQ(find_field(find_field(dst->children, "ipv6.opt", 2)->children, "ipv6.opt.length"),
            nullptr);
  EXPECT_EQ(field_value(find_field(opts, "ipv6.fraghdr")->children, "ipv6.fraghdr.ident"),
            "0x00001234");
  for (std::size_t n = 0; n < 112; ++n) {
    const std::span<const std::uint8_t> prefix(kChain.data(), n);
    dissect::Header any;
    describe(decode_ipv6(prefix), prefix, 0, any);
    expect_inside(any.fields, n);
  }
}

TEST(Ipv6Header, TheFinalDestinationOfARoutingHeaderWithSegmentsLeft) {
  // kChain routes through ::3 and ::4 with 1 segment left; kSrh's segment list[0] is ::5
  // (tshark checks the transport checksums against these; RFC 8200 8.1).
  EXPECT_EQ(final_destination(decode_ipv6(kChain), kChain).to_string(), "2001:db8::4");
  EXPECT_EQ(final_destination(decode_ipv6(kSrh), kSrh).to_string(), "2001:db8::5");
  Bytes done = kChain;
  done[59] = 0;  // no segments left: the destination field is the final one
  EXPECT_EQ(final_destination(decode_ipv6(done), done).to_string(), "2001:db8::2");
  EXPECT_EQ(final_destination(decode_ipv6(kLaterFragment), kLaterFragment).to_string(),
            "2001:db8::2");
}

TEST(Ipv6Header, APayloadLengthPastTheCaptureMarksThePayloadTruncated) {
  const std::span<const std::uint8_t> cut(kChain.data(), 116);
  const auto h = decode_ipv6(cut);
  EXPECT_FALSE(h.problem);
  EXPECT_TRUE(h.payload_truncated);
  EXPECT_EQ(h.payload_bytes, 4u);
}

TEST(Ipv6Header, AChainLongerThanEightHeadersIsMalformed) {
  // Nine empty destination options headers (8 bytes each, PadN of 4), then no next header.
  Bytes b(kLaterFragment.begin(), kLaterFragment.begin() + 40);
  b[6] = 60;
  const std::uint16_t plen = 9 * 8;
  b[4] = 0;
  b[5] = plen;
  for (int i = 0; i < 9; ++i)
    b.insert(b.end(), {std::uint8_t(i == 8 ? 59 : 60), 0, 1, 4, 0, 0, 0, 0});
  const auto h = decode_ipv6(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(h.problem.what, "more than 8 extension headers");
  EXPECT_EQ(h.problem.at, 40u + 8 * 8);
}

TEST(Ipv6Header, AnExtensionHeaderPastThePayloadLengthIsMalformed) {
  Bytes b = kSrh;
  b[41] = 10;  // the routing header claims 88 bytes; the payload length is 48
  const auto h = decode_ipv6(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_EQ(h.problem.at, 41u);
}

TEST(Ipv6Header, AnOptionPastItsHeaderIsMalformed) {
  Bytes b = kChain;
  b[47] = 9;  // the PadN of the hop-by-hop header claims 9 bytes of 8 left
  const auto h = decode_ipv6(b);
  EXPECT_EQ(h.problem.kind, Problem::Kind::malformed);
  EXPECT_EQ(h.problem.at, 46u);
}

TEST(Ipv6Header, AnotherVersionIsMalformed) {
  Bytes b = kSrh;
  b[0] = 0x45;
  EXPECT_EQ(decode_ipv6(b).problem.kind, Problem::Kind::malformed);
}

}  // namespace
}  // namespace duplex::inet
