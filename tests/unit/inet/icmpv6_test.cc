// ICMPv6 and its Neighbor Discovery and MLD messages against messages made with scapy,
// checked with tshark -T json (checksums verified) and tcpdump -nn on the same bytes.
#include "duplex/inet/icmpv6.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "../dissect_fields.h"
#include "duplex/inet/ipv4_header.h"
#include "duplex/inet/ipv6_header.h"

namespace duplex::inet {
namespace {

using Bytes = std::vector<std::uint8_t>;
using dissect::Problem;
using test::field_value;
using test::find_field;
using test::from_hex;

PseudoHeader between(const char* source, const char* destination, const Bytes& message) {
  return {Address::parse(source), Address::parse(destination), kProtocolIcmpv6,
          static_cast<std::uint32_t>(message.size())};
}

// scapy: IPv6(fe80::1 -> fe80::2)/ICMPv6EchoRequest(id=1, seq=2, data="abcdefgh").
const Bytes kEchoRequest = from_hex("8000f117000100026162636465666768");
// The offending datagram the errors quote: 2001:db8::2:40000 -> 2001:db8::1:9, UDP "hi".
constexpr std::string_view kQuoted =
    "60000000000a114020010db800000000000000000000000220010db8000000000000000000000001"
    "9c400009000a9fb26869";
// scapy: IPv6(2001:db8::1 -> 2001:db8::2)/ICMPv6DestUnreach(code=4), PacketTooBig(mtu=1280),
// TimeExceeded(code=0), ParamProblem(code=0, ptr=6), each quoting kQuoted.
const Bytes kPortUnreachable = from_hex(std::string("010431e300000000") + std::string(kQuoted));
const Bytes kPacketTooBig = from_hex(std::string("02002be700000500") + std::string(kQuoted));
const Bytes kTimeExceeded = from_hex(std::string("03002fe700000000") + std::string(kQuoted));
const Bytes kParameterProblem = from_hex(std::string("04002ee100000006") + std::string(kQuoted));
// scapy: IPv6(fe80::1 -> ff02::1:ff00:2)/ICMPv6ND_NS(tgt=fe80::2)/SrcLLAddr(02:..:01).
const Bytes kNeighborSolicitation =
    from_hex("87007a9700000000fe8000000000000000000000000000020101020000000001");
// scapy: IPv6(fe80::2 -> fe80::1)/ICMPv6ND_NA(tgt=fe80::2, R, S, O)/DstLLAddr(02:..:02).
const Bytes kNeighborAdvertisement =
    from_hex("88009819e0000000fe8000000000000000000000000000020201020000000002");
// scapy: IPv6(fe80::2 -> ff02::1)/ICMPv6ND_RA(chlim=64, M, O, prf=1, routerlifetime=1800,
// reachabletime=30000, retranstimer=1000)/SrcLLAddr/MTU(1500)/PrefixInfo(2001:db8:1::/64,
// L, A, valid 86400, preferred 14400)/RDNSS(600, 2001:db8::53, 2001:db8::54)/an option of
// the unknown type 200.
const Bytes kRouterAdvertisement = from_hex(
    "8600724d40c8070800007530000003e8010102000000000205010000000005dc030440c00001518000003840"
    "0000000020010db8000100000000000000000000190500000000025820010db8000000000000000000000053"
    "20010db8000000000000000000000054c801000000000000");
// scapy: IPv6(fe80::2 -> fe80::1)/ICMPv6ND_Redirect(tgt=fe80::3, dst=2001:db8::99)/DstLLAddr.
const Bytes kRedirect = from_hex(
    "890048b600000000fe80000000000000000000000000000320010db8000000000000000000000099020102000000"
    "0003");
// scapy: IPv6(fe80::2 -> ff02::1)/ICMPv6MLQuery(mrd=10000); IPv6(fe80::1 -> ff02::16)/
// ICMPv6MLReport2(one record, to_ex ff02::fb).
const Bytes kMldQuery = from_hex("820059162710000000000000000000000000000000000000");
const Bytes kMld2Report = from_hex("8f006f0f0000000104000000ff0200000000000000000000000000fb");

TEST(Icmpv6, DecodesAnEchoRequestWithItsChecksumOverThePseudoHeader) {
  const auto h = decode_icmpv6(kEchoRequest, between("fe80::1", "fe80::2", kEchoRequest));
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.type, kIcmpv6EchoRequest);
  EXPECT_EQ(h.checksum, 0xf117);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(h.id, 1);
  EXPECT_EQ(h.sequence, 2);
  EXPECT_EQ(h.header_length, 8u);
  EXPECT_FALSE(h.is_error());
  EXPECT_EQ(summary(h, kEchoRequest), "ICMP6, echo request, id 1, seq 2, length 16");
  dissect::Header out;
  describe(h, kEchoRequest, 54, out);
  EXPECT_EQ(out.protocol, "ICMPv6");
  EXPECT_EQ(out.layer, dissect::Layer::network);
  EXPECT_EQ(field_value(out, "icmpv6.type"), "128");
  EXPECT_EQ(find_field(out, "icmpv6.type")->meaning, "echo request");
  EXPECT_EQ(field_value(out, "icmpv6.code"), "0");
  EXPECT_EQ(field_value(out, "icmpv6.checksum"), "0xf117");
  EXPECT_EQ(field_value(out, "icmpv6.checksum.status"), "good");
  EXPECT_EQ(field_value(out, "icmpv6.echo.identifier"), "0x0001");  // tshark's hex
  EXPECT_EQ(field_value(out, "icmpv6.echo.sequence_number"), "2");
  EXPECT_EQ(find_field(out, "icmpv6.echo.sequence_number")->offset, 54u + 6);
}

TEST(Icmpv6, TheChecksumIsBadBetweenOtherAddressesAndUnverifiedWhenCut) {
  EXPECT_EQ(
      decode_icmpv6(kEchoRequest, between("fe80::1", "fe80::3", kEchoRequest)).checksum_status,
      ChecksumStatus::bad);
  const std::span<const std::uint8_t> cut(kEchoRequest.data(), 12);
  const auto h = decode_icmpv6(cut, between("fe80::1", "fe80::2", kEchoRequest));
  EXPECT_FALSE(h.problem);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::unverified);
  EXPECT_EQ(summary(h, cut), "ICMP6, echo request, id 1, seq 2, length 16");
  EXPECT_EQ(decode_icmpv6(kEchoRequest).checksum_status, ChecksumStatus::unverified);
}

TEST(Icmpv6, APortUnreachableQuotesTheLostPacketForTheChain) {
  const auto h =
      decode_icmpv6(kPortUnreachable, between("2001:db8::1", "2001:db8::2", kPortUnreachable));
  ASSERT_FALSE(h.problem);
  EXPECT_TRUE(h.is_error());
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  ASSERT_EQ(h.quoted_offset, 8u);
  const auto quoted = decode_ipv6(std::span<const std::uint8_t>(kPortUnreachable).subspan(8));
  EXPECT_EQ(quoted.destination.to_string(), "2001:db8::1");
  EXPECT_EQ(quoted.final_next_header, kProtocolUdp);
  EXPECT_EQ(summary(h, kPortUnreachable),
            "ICMP6, destination unreachable, unreachable port, 2001:db8::1 udp port 9, length 58");
  dissect::Header out;
  describe(h, kPortUnreachable, 0, out);
  EXPECT_EQ(find_field(out, "icmpv6.code")->meaning, "port unreachable");
  EXPECT_EQ(field_value(out, "icmpv6.reserved"), "00:00:00:00");
  EXPECT_EQ(out.length, 8u);  // the quoted packet is the chain's to decode
}

TEST(Icmpv6, OtherUnreachableCodesReadAsTcpdumps) {
  Bytes b = kPortUnreachable;
  const auto text = [&](std::uint8_t code) {
    b[1] = code;
    return summary(decode_icmpv6(b), b);
  };
  EXPECT_EQ(text(0), "ICMP6, destination unreachable, unreachable route 2001:db8::1, length 58");
  EXPECT_EQ(text(1),
            "ICMP6, destination unreachable,  unreachable prohibited 2001:db8::1, length 58");
  EXPECT_EQ(text(2),
            "ICMP6, destination unreachable, beyond scope 2001:db8::1, source address "
            "2001:db8::2, length 58");
  EXPECT_EQ(text(3), "ICMP6, destination unreachable, unreachable address 2001:db8::1, length 58");
  EXPECT_EQ(text(5), "ICMP6, destination unreachable, unknown unreach code (5)");
  // scapy: ICMPv6DestUnreach(code=4) quoting a TCP segment to port 80.
  const Bytes tcp = from_hex(
      "01043cce00000000600000000014064020010db800000000000000000000000220010db8000000000000"
      "0000000000019c40005000000000000000005002200097dd0000");
  EXPECT_EQ(summary(decode_icmpv6(tcp), tcp),
            "ICMP6, destination unreachable, unreachable port, 2001:db8::1 tcp port 80, length 68");
}

TEST(Icmpv6, PacketTooBigTimeExceededAndParameterProblem) {
  const auto big = decode_icmpv6(kPacketTooBig);
  EXPECT_EQ(big.mtu, 1280u);
  EXPECT_EQ(big.quoted_offset, 8u);
  EXPECT_EQ(summary(big, kPacketTooBig), "ICMP6, packet too big, mtu 1280, length 58");
  dissect::Header out;
  describe(big, kPacketTooBig, 0, out);
  EXPECT_EQ(field_value(out, "icmpv6.mtu"), "1280");

  const auto exceeded = decode_icmpv6(kTimeExceeded);
  EXPECT_EQ(summary(exceeded, kTimeExceeded),
            "ICMP6, time exceeded in-transit for 2001:db8::1, length 58");
  Bytes reassembly = kTimeExceeded;
  reassembly[1] = 1;
  EXPECT_EQ(summary(decode_icmpv6(reassembly), reassembly),
            "ICMP6, time exceeded in-transit (reassembly), length 58");

  const auto problem = decode_icmpv6(kParameterProblem);
  EXPECT_EQ(problem.pointer, 6u);
  EXPECT_EQ(summary(problem, kParameterProblem),
            "ICMP6, parameter problem, erroneous - octet 6, length 58");
  dissect::Header pp;
  describe(problem, kParameterProblem, 0, pp);
  EXPECT_EQ(field_value(pp, "icmpv6.pointer"), "6");
  Bytes chain = kParameterProblem;
  chain[1] = 3;
  EXPECT_EQ(summary(decode_icmpv6(chain), chain),
            "ICMP6, parameter problem, incomplete header chain - octet 6, length 58");
}

TEST(Icmpv6, ANeighbourSolicitationNamesItsTargetAndItsSourceLinkAddress) {
  const auto h = decode_icmpv6(kNeighborSolicitation,
                               between("fe80::1", "ff02::1:ff00:2", kNeighborSolicitation));
  ASSERT_FALSE(h.problem) << h.problem.what;
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_TRUE(h.is_ndp());
  EXPECT_EQ(h.target.to_string(), "fe80::2");
  ASSERT_EQ(h.option_count, 1);
  EXPECT_EQ(h.options[0].type, kNdpSourceLinkAddress);
  EXPECT_EQ(h.options[0].length, 1);
  EXPECT_EQ(h.options[0].at, 24u);
  EXPECT_EQ(summary(h, kNeighborSolicitation),
            "ICMP6, neighbor solicitation, who has fe80::2, length 32");
  dissect::Header out;
  describe(h, kNeighborSolicitation, 0, out);
  EXPECT_EQ(out.length, 32u);
  EXPECT_EQ(field_value(out, "icmpv6.nd.ns.target_address"), "fe80::2");
  const auto* opt = find_field(out, "icmpv6.opt");
  ASSERT_NE(opt, nullptr);
  EXPECT_EQ(opt->offset, 24u);
  EXPECT_EQ(opt->length, 8u);
  EXPECT_EQ(field_value(opt->children, "icmpv6.opt.type"), "1");
  EXPECT_EQ(field_value(opt->children, "icmpv6.opt.length"), "1");
  EXPECT_EQ(field_value(opt->children, "icmpv6.opt.linkaddr"), "02:00:00:00:00:01");
  EXPECT_EQ(field_value(opt->children, "icmpv6.opt.src_linkaddr"), "02:00:00:00:00:01");
}

TEST(Icmpv6, ANeighbourAdvertisementCarriesItsRouterSolicitedAndOverrideFlags) {
  const auto h =
      decode_icmpv6(kNeighborAdvertisement, between("fe80::2", "fe80::1", kNeighborAdvertisement));
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_TRUE(h.router);
  EXPECT_TRUE(h.solicited);
  EXPECT_TRUE(h.override_flag);
  EXPECT_EQ(summary(h, kNeighborAdvertisement),
            "ICMP6, neighbor advertisement, tgt is fe80::2, length 32");
  dissect::Header out;
  describe(h, kNeighborAdvertisement, 0, out);
  EXPECT_EQ(field_value(out, "icmpv6.nd.na.flag"), "0xe0000000");
  const auto& flags = find_field(out, "icmpv6.nd.na.flag")->children;
  EXPECT_EQ(field_value(flags, "icmpv6.nd.na.flag.r"), "1");
  EXPECT_EQ(field_value(flags, "icmpv6.nd.na.flag.s"), "1");
  EXPECT_EQ(field_value(flags, "icmpv6.nd.na.flag.o"), "1");
  EXPECT_EQ(field_value(flags, "icmpv6.nd.na.flag.rsv"), "0");
  EXPECT_EQ(field_value(out, "icmpv6.nd.na.target_address"), "fe80::2");
  EXPECT_EQ(field_value(find_field(out, "icmpv6.opt")->children, "icmpv6.opt.target_linkaddr"),
            "02:00:00:00:00:02");
}

TEST(Icmpv6, ACutMessageShowsTheBodyFieldsAndTheOptionPartsThatWereCaptured) {
  // 8 bytes of the advertisement: its flags, not its target (tshark shows the flags too).
  const std::span<const std::uint8_t> flags_only(kNeighborAdvertisement.data(), 8);
  dissect::Header na;
  describe(decode_icmpv6(flags_only, 32), flags_only, 0, na);
  ASSERT_NE(find_field(na, "icmpv6.nd.na.flag"), nullptr);
  EXPECT_EQ(field_value(find_field(na, "icmpv6.nd.na.flag")->children, "icmpv6.nd.na.flag.s"), "1");
  EXPECT_EQ(find_field(na, "icmpv6.nd.na.target_address"), nullptr);
  // 26 bytes of the solicitation: its option's type and length, not its address.
  const std::span<const std::uint8_t> in_option(kNeighborSolicitation.data(), 26);
  const auto h = decode_icmpv6(in_option, 32);
  EXPECT_EQ(h.problem.kind, Problem::Kind::truncated);
  dissect::Header ns;
  describe(h, in_option, 0, ns);
  const auto* opt = find_field(ns, "icmpv6.opt");
  ASSERT_NE(opt, nullptr);
  EXPECT_EQ(opt->length, 2u);
  EXPECT_EQ(field_value(opt->children, "icmpv6.opt.type"), "1");
  EXPECT_EQ(field_value(opt->children, "icmpv6.opt.length"), "1");
  EXPECT_EQ(find_field(opt->children, "icmpv6.opt.linkaddr"), nullptr);
  // An echo's data is no option.
  dissect::Header echo;
  describe(decode_icmpv6(kEchoRequest), kEchoRequest, 0, echo);
  EXPECT_EQ(find_field(echo, "icmpv6.opt"), nullptr);
}

TEST(Icmpv6, ARouterAdvertisementWithItsPrefixMtuAndDnsServers) {
  const auto h =
      decode_icmpv6(kRouterAdvertisement, between("fe80::2", "ff02::1", kRouterAdvertisement));
  ASSERT_FALSE(h.problem) << h.problem.what;
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(h.cur_hop_limit, 64);
  EXPECT_TRUE(h.managed());
  EXPECT_TRUE(h.other_config());
  EXPECT_EQ(h.preference(), 1);  // high
  EXPECT_EQ(h.router_lifetime, 1800);
  EXPECT_EQ(h.reachable_time, 30000u);
  EXPECT_EQ(h.retrans_timer, 1000u);
  ASSERT_EQ(h.option_count, 5);
  EXPECT_EQ(h.options[4].type, 200);  // unknown, kept with its type and length
  EXPECT_EQ(summary(h, kRouterAdvertisement), "ICMP6, router advertisement, length 112");
  dissect::Header out;
  describe(h, kRouterAdvertisement, 0, out);
  EXPECT_EQ(out.length, 112u);
  EXPECT_EQ(field_value(out, "icmpv6.nd.ra.cur_hop_limit"), "64");
  EXPECT_EQ(field_value(out, "icmpv6.nd.ra.flag"), "0xc8");
  const auto& flags = find_field(out, "icmpv6.nd.ra.flag")->children;
  EXPECT_EQ(field_value(flags, "icmpv6.nd.ra.flag.m"), "1");
  EXPECT_EQ(field_value(flags, "icmpv6.nd.ra.flag.o"), "1");
  EXPECT_EQ(field_value(flags, "icmpv6.nd.ra.flag.prf"), "1");
  EXPECT_EQ(find_field(flags, "icmpv6.nd.ra.flag.prf")->meaning, "High");
  EXPECT_EQ(field_value(out, "icmpv6.nd.ra.router_lifetime"), "1800");
  EXPECT_EQ(field_value(out, "icmpv6.nd.ra.reachable_time"), "30000");
  EXPECT_EQ(field_value(out, "icmpv6.nd.ra.retrans_timer"), "1000");
  const auto& mtu = find_field(out, "icmpv6.opt", 1)->children;
  EXPECT_EQ(field_value(mtu, "icmpv6.opt.mtu"), "1500");
  const auto* prefix = find_field(out, "icmpv6.opt", 2);
  EXPECT_EQ(prefix->meaning, "2001:db8:1::/64");
  EXPECT_EQ(field_value(prefix->children, "icmpv6.opt.prefix"), "2001:db8:1::");
  EXPECT_EQ(field_value(prefix->children, "icmpv6.opt.prefix.length"), "64");
  EXPECT_EQ(field_value(prefix->children, "icmpv6.opt.prefix.flag"), "0xc0");
  const auto& prefix_flags = find_field(prefix->children, "icmpv6.opt.prefix.flag")->children;
  EXPECT_EQ(field_value(prefix_flags, "icmpv6.opt.prefix.flag.l"), "1");
  EXPECT_EQ(field_value(prefix_flags, "icmpv6.opt.prefix.flag.a"), "1");
  EXPECT_EQ(field_value(prefix_flags, "icmpv6.opt.prefix.flag.r"), "0");
  EXPECT_EQ(field_value(prefix->children, "icmpv6.opt.prefix.valid_lifetime"), "86400");
  EXPECT_EQ(field_value(prefix->children, "icmpv6.opt.prefix.preferred_lifetime"), "14400");
  const auto& rdnss = find_field(out, "icmpv6.opt", 3)->children;
  EXPECT_EQ(field_value(rdnss, "icmpv6.opt.rdnss.lifetime"), "600");
  EXPECT_EQ(field_value(rdnss, "icmpv6.opt.rdnss", 0), "2001:db8::53");
  EXPECT_EQ(field_value(rdnss, "icmpv6.opt.rdnss", 1), "2001:db8::54");
  const auto* unknown = find_field(out, "icmpv6.opt", 4);
  EXPECT_EQ(field_value(unknown->children, "icmpv6.opt.type"), "200");
  EXPECT_EQ(field_value(unknown->children, "icmpv6.data"), "00:00:00:00:00:00");
}

TEST(Icmpv6, ARedirectNamesItsTargetAndDestination) {
  const auto h = decode_icmpv6(kRedirect, between("fe80::2", "fe80::1", kRedirect));
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(summary(h, kRedirect), "ICMP6, redirect, 2001:db8::99 to fe80::3, length 48");
  dissect::Header out;
  describe(h, kRedirect, 0, out);
  EXPECT_EQ(field_value(out, "icmpv6.nd.rd.target_address"), "fe80::3");
  EXPECT_EQ(field_value(out, "icmpv6.rd.na.destination_address"), "2001:db8::99");
}

TEST(Icmpv6, MulticastListenerMessages) {
  const auto query = decode_icmpv6(kMldQuery, between("fe80::2", "ff02::1", kMldQuery));
  EXPECT_EQ(query.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(query.max_response_delay, 10000);
  // tcpdump's words, its missing space included.
  EXPECT_EQ(summary(query, kMldQuery),
            "ICMP6, multicast listener querymax resp delay: 10000 addr: ::, length 24");
  dissect::Header out;
  describe(query, kMldQuery, 0, out);
  EXPECT_EQ(field_value(out, "icmpv6.mld.maximum_response_delay"), "10000");
  EXPECT_EQ(field_value(out, "icmpv6.mld.multicast_address"), "::");
  const auto report = decode_icmpv6(kMld2Report, between("fe80::1", "ff02::16", kMld2Report));
  EXPECT_EQ(report.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(summary(report, kMld2Report),
            "ICMP6, multicast listener report v2, 1 group record(s), length 28");
}

TEST(Icmpv6, MalformedNdpOptionsAreNamed) {
  struct Case {
    const char* option;  // after the 24 bytes of a neighbour solicitation
    Problem::Kind kind;
    const char* what;
    std::uint32_t at;
  };
  const Case cases[] = {
      {"0100020000000001", Problem::Kind::malformed, "an NDP option length is 0", 25},
      {"0102020000000001", Problem::Kind::malformed, "an NDP option runs past the message", 25},
      {"01", Problem::Kind::malformed, "an NDP option's length byte is past the message", 24},
      {"050200000000000000000000000005dc", Problem::Kind::malformed,
       "an MTU option's length is not 1 (8 bytes)", 25},
  };
  const std::string ns = "87007a9700000000fe800000000000000000000000000002";
  for (const auto& c : cases) {
    const Bytes b = from_hex(ns + c.option);
    const auto h = decode_icmpv6(b);
    EXPECT_EQ(h.problem.kind, c.kind) << c.option;
    EXPECT_STREQ(h.problem.what, c.what) << c.option;
    EXPECT_EQ(h.problem.at, c.at) << c.option;
    EXPECT_EQ(h.target.to_string(), "fe80::2");  // the fields before it are kept
    dissect::Header out;
    describe(h, b, 0, out);
    EXPECT_NE(out.problem, "");
    for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, b.size()) << f.key;
  }
  // An option cut by the snaplen is truncated, not malformed.
  const Bytes whole = kRouterAdvertisement;
  const auto cut = decode_icmpv6(std::span<const std::uint8_t>(whole.data(), 60),
                                 static_cast<std::uint32_t>(whole.size()));
  EXPECT_EQ(cut.problem.kind, Problem::Kind::truncated);
  EXPECT_EQ(cut.option_count, 2);  // the link address and the MTU were whole
}

TEST(Icmpv6, EveryTruncatedPrefixKeepsWhatItHadAndNeverReadsPast) {
  for (const Bytes* message :
       {&kEchoRequest, &kPortUnreachable, &kNeighborSolicitation, &kNeighborAdvertisement,
        &kRouterAdvertisement, &kRedirect, &kMldQuery, &kMld2Report}) {
    const auto length = static_cast<std::uint32_t>(message->size());
    const auto whole = decode_icmpv6(*message);
    ASSERT_FALSE(whole.problem);
    for (std::size_t n = 0; n < message->size(); ++n) {
      const std::span<const std::uint8_t> prefix(message->data(), n);
      const auto h = decode_icmpv6(prefix, length);
      if (n < whole.header_length) {
        EXPECT_EQ(h.problem.kind, Problem::Kind::truncated) << n;
        EXPECT_EQ(h.header_length, 0u);
        EXPECT_EQ(summary(h, prefix), "ICMP6, [|icmp6]");
      }
      if (n >= 1) {
        EXPECT_EQ(h.type, whole.type);
      }
      EXPECT_NE(h.problem.kind, Problem::Kind::malformed) << n;
      dissect::Header out;
      describe(h, prefix, 0, out);
      for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, n) << f.key << " " << n;
      EXPECT_FALSE(summary(h, prefix).empty());
    }
  }
}

TEST(Icmpv6, RandomBytesNeverMakeAFieldPastTheCapture) {
  // The known types are made common, so that the NDP option walk and the quoted packet's
  // summary see every kind of garbage.
  constexpr std::uint8_t kTypes[] = {1, 2, 3, 4, 128, 130, 133, 134, 135, 136, 137, 143};
  std::mt19937 random(58);
  for (int round = 0; round < 20000; ++round) {
    Bytes b(random() % 120);
    for (auto& byte : b) byte = static_cast<std::uint8_t>(random());
    if (!b.empty() && round % 4 != 0) b[0] = kTypes[random() % std::size(kTypes)];
    if (b.size() > 8 && b[0] < 5 && round % 2 == 0) b[8] = 0x60;  // a quoted IPv6 header
    const auto length = static_cast<std::uint32_t>(b.size() + random() % 3 * (random() % 40));
    const auto h = decode_icmpv6(
        b, PseudoHeader{Address::parse("fe80::1"), Address::parse("fe80::2"), 58, length});
    dissect::Header out;
    describe(h, b, 0, out);
    test::expect_fields_inside(out.fields, b.size(), std::to_string(round));
    EXPECT_FALSE(summary(h, b).empty());
  }
}

TEST(Icmpv6, AnUnknownTypeKeepsItsTypeAndCode) {
  // scapy: ICMPv6Unknown(type=200, code=3, msgbody="abcd"); tcpdump: "mtrace response".
  const Bytes b = from_hex("c803177e61626364");
  const auto h = decode_icmpv6(b, between("2001:db8::1", "2001:db8::2", b));
  ASSERT_FALSE(h.problem);
  EXPECT_EQ(h.checksum_status, ChecksumStatus::good);
  EXPECT_EQ(h.header_length, 4u);
  EXPECT_EQ(summary(h, b), "ICMP6, mtrace response, length 8");
  Bytes other = b;
  other[0] = 250;
  EXPECT_EQ(summary(decode_icmpv6(other), other), "ICMP6, unknown icmp6 type (250), length 8");
}

}  // namespace
}  // namespace duplex::inet
