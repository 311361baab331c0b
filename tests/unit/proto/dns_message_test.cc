// DNS messages made with scapy (dns_compress for the compressed ones), checked with tshark -T
// json and tcpdump -nn on the same bytes sent as UDP payloads.
#include "duplex/proto/dns_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../dissect_fields.h"

namespace duplex::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;
using dissect::Problem;
using test::field_value;
using test::find_field;
using test::from_hex;

// DNS(id=1234, rd=1, qd=DNSQR(qname="example.com", qtype="A")).
const Bytes kQuery = from_hex("04d201000001000000000000076578616d706c6503636f6d0000010001");
// Its answer: example.com A 93.184.216.34, TTL 3600, uncompressed.
const Bytes kAnswer = from_hex(
    "04d281800001000100000000076578616d706c6503636f6d0000010001076578616d706c6503636f6d000001"
    "000100000e1000045db8d822");
// An AAAA query with AD and an OPT record: UDP payload size 1232, DO.
const Bytes kEdnsQuery =
    from_hex("10e101200001000000000001076578616d706c6503636f6d00001c000100002904d0000080000000");
// Compressed, authoritative, no recursion: www.example.com CNAME example.com, A, AAAA;
// authority NS ns1.example.com; additional OPT 4096 with DO.
const Bytes kCompressed = from_hex(
    "00078500000100030001000103777777076578616d706c6503636f6d0000010001c00c000500010000003c00"
    "02c010c010000100010000003c000401020304c010001c00010000003c001020010db8000000000000000000"
    "000001c010000200010000012c0006036e7331c0100000291000000080000000");
// NXDomain for nope.example MX, with the zone's SOA in the authority section.
const Bytes kNxDomain = from_hex(
    "006381830001000000010000046e6f7065076578616d706c6500000f0001076578616d706c65000006000100"
    "000384002f026e73076578616d706c65000561646d696e076578616d706c650078a3f17500001c2000000e10"
    "001275000000012c");
// Compressed: example.com MX 10 mail.example.com, TXT "v=spf1 -all" "hello world".
const Bytes kMxTxt = from_hex(
    "000581800001000200000000076578616d706c6503636f6d00000f0001c00c000f00010000012c0009000a04"
    "6d61696cc00cc00c001000010000012c00180b763d73706631202d616c6c0b68656c6c6f20776f726c64");
// _xmpp._tcp.example.com SRV 5 10 5222 xmpp.example.com.
const Bytes kSrv = from_hex(
    "000681800001000100000000055f786d7070045f746370076578616d706c6503636f6d0000210001055f786d"
    "7070045f746370076578616d706c6503636f6d00002100010000012c00180005000a146604786d7070076578"
    "616d706c6503636f6d00");
// 4.3.2.1.in-addr.arpa PTR host.example.com.
const Bytes kPtr = from_hex(
    "000881800001000100000000013401330132013107696e2d61646472046172706100000c0001013401330132"
    "013107696e2d61646472046172706100000c00010000012c001204686f7374076578616d706c6503636f6d00");
// A NOTIFY (opcode 4) with AA set, which tcpdump shows as odd bits in a query.
const Bytes kNotify = from_hex("000925000001000000000000076578616d706c6503636f6d0000060001");
// Type 99 (SPF), kept raw: 01 02 03.
const Bytes kOther = from_hex(
    "000a81800001000100000000076578616d706c6503636f6d0000630001076578616d706c6503636f6d000063"
    "0001000000050003010203");

// A message with one question whose name is `name` (type A, class IN).
Bytes with_question_name(const Bytes& name) {
  Bytes b = from_hex("000101000001000000000000");
  b.insert(b.end(), name.begin(), name.end());
  b.insert(b.end(), {0, 1, 0, 1});
  return b;
}

const dissect::Field& nth(const dissect::Header& h, const std::string& key, int n = 0) {
  const auto* f = find_field(h, key, n);
  if (f == nullptr) throw std::runtime_error("missing " + key);
  return *f;
}

TEST(DnsMessage, DecodesAQuery) {
  const auto m = decode_dns(kQuery);
  ASSERT_FALSE(m.problem) << m.problem.what;
  EXPECT_EQ(m.id, 1234);
  EXPECT_FALSE(m.response());
  EXPECT_TRUE(m.recursion_desired());
  EXPECT_EQ(m.qdcount, 1);
  EXPECT_EQ(m.questions, 1);
  EXPECT_EQ(m.first_question.type, 1);
  EXPECT_EQ(m.first_question.klass, 1);
  EXPECT_EQ(summary(m, kQuery), "1234+ A? example.com. (29)");  // tcpdump -nn
  dissect::Header out;
  describe(m, kQuery, 42, out);
  EXPECT_EQ(out.protocol, "DNS");
  EXPECT_EQ(out.layer, dissect::Layer::application);
  EXPECT_EQ(out.length, 29u);
  // tshark -T json.
  EXPECT_EQ(field_value(out, "dns.id"), "0x04d2");
  EXPECT_EQ(field_value(out, "dns.flags"), "0x0100");
  const auto& flags = nth(out, "dns.flags").children;
  EXPECT_EQ(field_value(flags, "dns.flags.response"), "0");
  EXPECT_EQ(field_value(flags, "dns.flags.opcode"), "0");
  EXPECT_EQ(field_value(flags, "dns.flags.recdesired"), "1");
  EXPECT_EQ(find_field(flags, "dns.flags.rcode"), nullptr);  // a query has none
  EXPECT_EQ(field_value(out, "dns.count.queries"), "1");
  EXPECT_EQ(field_value(out, "dns.count.answers"), "0");
  const auto& q = nth(out, "dns.query");
  EXPECT_EQ(q.offset, 42u + 12);
  EXPECT_EQ(q.length, 17u);
  EXPECT_EQ(field_value(q.children, "dns.qry.name"), "example.com");
  EXPECT_EQ(field_value(q.children, "dns.qry.type"), "1");
  EXPECT_EQ(find_field(q.children, "dns.qry.type")->meaning, "A");
  EXPECT_EQ(field_value(q.children, "dns.qry.class"), "0x0001");
}

TEST(DnsMessage, DecodesAnAnswer) {
  const auto m = decode_dns(kAnswer);
  ASSERT_FALSE(m.problem) << m.problem.what;
  EXPECT_TRUE(m.response());
  EXPECT_EQ(m.records, 1u);
  EXPECT_EQ(summary(m, kAnswer), "1234 1/0/0 A 93.184.216.34 (56)");
  dissect::Header out;
  describe(m, kAnswer, 0, out);
  EXPECT_EQ(field_value(out, "dns.flags"), "0x8180");
  EXPECT_EQ(field_value(nth(out, "dns.flags").children, "dns.flags.rcode"), "0");
  const auto& a = nth(out, "dns.answer").children;
  EXPECT_EQ(field_value(a, "dns.resp.name"), "example.com");
  EXPECT_EQ(field_value(a, "dns.resp.type"), "1");
  EXPECT_EQ(field_value(a, "dns.resp.class"), "0x0001");
  EXPECT_EQ(field_value(a, "dns.resp.ttl"), "3600");
  EXPECT_EQ(field_value(a, "dns.resp.len"), "4");
  EXPECT_EQ(field_value(a, "dns.a"), "93.184.216.34");
  EXPECT_EQ(find_field(a, "dns.a")->offset, 52u);
}

TEST(DnsMessage, FollowsCompressionPointersInNamesAndData) {
  const auto m = decode_dns(kCompressed);
  ASSERT_FALSE(m.problem) << m.problem.what;
  EXPECT_EQ(m.records, 5u);
  EXPECT_TRUE(m.has_edns);
  EXPECT_EQ(m.udp_payload_size, 4096);
  EXPECT_TRUE(m.dnssec_ok);
  EXPECT_EQ(summary(m, kCompressed),
            "7*- 3/1/1 CNAME example.com., A 1.2.3.4, AAAA 2001:db8::1 (120)");
  dissect::Header out;
  describe(m, kCompressed, 0, out);
  const auto& cname = nth(out, "dns.answer", 0).children;
  EXPECT_EQ(field_value(cname, "dns.resp.name"), "www.example.com");
  EXPECT_EQ(find_field(cname, "dns.resp.name")->length, 2u);  // the pointer
  EXPECT_EQ(field_value(cname, "dns.cname"), "example.com");
  EXPECT_EQ(field_value(nth(out, "dns.answer", 1).children, "dns.resp.name"), "example.com");
  EXPECT_EQ(field_value(nth(out, "dns.answer", 2).children, "dns.aaaa"), "2001:db8::1");
  EXPECT_EQ(field_value(nth(out, "dns.authority").children, "dns.ns"), "ns1.example.com");
  const auto& opt = nth(out, "dns.additional").children;
  EXPECT_EQ(field_value(opt, "dns.resp.name"), "<Root>");
  EXPECT_EQ(field_value(opt, "dns.resp.type"), "41");
  EXPECT_EQ(field_value(opt, "dns.rr.udp_payload_size"), "4096");
  EXPECT_EQ(field_value(opt, "dns.resp.edns0_version"), "0");
  EXPECT_EQ(field_value(opt, "dns.resp.z"), "0x8000");
  EXPECT_EQ(field_value(find_field(opt, "dns.resp.z")->children, "dns.resp.z.do"), "1");
  EXPECT_EQ(find_field(opt, "dns.resp.class"), nullptr);
}

TEST(DnsMessage, ReadsEdnsInAQuery) {
  const auto m = decode_dns(kEdnsQuery);
  ASSERT_FALSE(m.problem) << m.problem.what;
  EXPECT_EQ(m.udp_payload_size, 1232);
  EXPECT_TRUE(m.dnssec_ok);
  EXPECT_TRUE(m.authenticated_data());
  EXPECT_EQ(summary(m, kEdnsQuery), "4321+ [1au] AAAA? example.com. (40)");
}

TEST(DnsMessage, DecodesSoaMxTxtSrvPtrAndKeepsOtherTypesRaw) {
  const auto nx = decode_dns(kNxDomain);
  ASSERT_FALSE(nx.problem) << nx.problem.what;
  EXPECT_EQ(nx.rcode(), 3);
  EXPECT_EQ(summary(nx, kNxDomain), "99 NXDomain 0/1/0 (96)");
  dissect::Header out;
  describe(nx, kNxDomain, 0, out);
  EXPECT_EQ(find_field(nth(out, "dns.flags").children, "dns.flags.rcode")->meaning, "No such name");
  const auto& soa = nth(out, "dns.authority").children;
  EXPECT_EQ(field_value(soa, "dns.soa.mname"), "ns.example");
  EXPECT_EQ(field_value(soa, "dns.soa.rname"), "admin.example");
  EXPECT_EQ(field_value(soa, "dns.soa.serial_number"), "2024010101");
  EXPECT_EQ(field_value(soa, "dns.soa.refresh_interval"), "7200");
  EXPECT_EQ(field_value(soa, "dns.soa.minimum_ttl"), "300");

  const auto mx = decode_dns(kMxTxt);
  ASSERT_FALSE(mx.problem) << mx.problem.what;
  EXPECT_EQ(summary(mx, kMxTxt),
            "5 2/0/0 MX mail.example.com. 10, TXT \"v=spf1 -all\" \"hello world\" (86)");
  out = {};
  describe(mx, kMxTxt, 0, out);
  EXPECT_EQ(field_value(nth(out, "dns.answer", 0).children, "dns.mx.preference"), "10");
  EXPECT_EQ(field_value(nth(out, "dns.answer", 0).children, "dns.mx.mail_exchange"),
            "mail.example.com");
  EXPECT_EQ(field_value(nth(out, "dns.answer", 1).children, "dns.txt", 0), "v=spf1 -all");
  EXPECT_EQ(field_value(nth(out, "dns.answer", 1).children, "dns.txt", 1), "hello world");

  const auto srv = decode_dns(kSrv);
  EXPECT_EQ(summary(srv, kSrv), "6 1/0/0 SRV xmpp.example.com.:5222 5 10 (98)");
  out = {};
  describe(srv, kSrv, 0, out);
  EXPECT_EQ(field_value(nth(out, "dns.answer").children, "dns.srv.target"), "xmpp.example.com");
  EXPECT_EQ(field_value(nth(out, "dns.answer").children, "dns.srv.port"), "5222");

  const auto ptr = decode_dns(kPtr);
  EXPECT_EQ(summary(ptr, kPtr), "8 1/0/0 PTR host.example.com. (88)");
  out = {};
  describe(ptr, kPtr, 0, out);
  EXPECT_EQ(field_value(nth(out, "dns.query").children, "dns.qry.name"), "4.3.2.1.in-addr.arpa");
  EXPECT_EQ(field_value(nth(out, "dns.answer").children, "dns.ptr.domain_name"),
            "host.example.com");

  const auto other = decode_dns(kOther);
  ASSERT_FALSE(other.problem) << other.problem.what;
  EXPECT_EQ(summary(other, kOther), "10 1/0/0 SPF (55)");
  out = {};
  describe(other, kOther, 0, out);
  EXPECT_EQ(field_value(nth(out, "dns.answer").children, "dns.data"), "01:02:03");
}

TEST(DnsMessage, SummariesShowOpcodesAndOddFlagsAsTcpdump) {
  EXPECT_EQ(summary(decode_dns(kNotify), kNotify),
            "9 notify+ [b2&3=0x2500] SOA? example.com. (29)");
  // scapy: DNS(id=11, qr=1, aa=1, tc=1, ra=0, ad=1, rcode=5, qdcount=0)/its default question.
  const Bytes odd = from_hex("000b8725000000000000000003777777076578616d706c6503636f6d0000010001");
  EXPECT_EQ(summary(decode_dns(odd), odd), "11 Refused*-|$ [0q] 0/0/0 (33)");
}

TEST(DnsMessage, ReadsTheLengthPrefixOverTcp) {
  Bytes tcp = {0, 29};
  tcp.insert(tcp.end(), kQuery.begin(), kQuery.end());
  const auto m = decode_dns_tcp(tcp);
  ASSERT_FALSE(m.problem) << m.problem.what;
  EXPECT_EQ(m.message_offset, 2u);
  EXPECT_EQ(m.id, 1234);
  EXPECT_EQ(summary(m, tcp), "1234+ A? example.com. (29)");
  dissect::Header out;
  describe(m, tcp, 54, out);
  EXPECT_EQ(out.length, 31u);
  EXPECT_EQ(field_value(out, "dns.length"), "29");
  EXPECT_EQ(nth(out, "dns.id").offset, 56u);
  EXPECT_EQ(field_value(nth(out, "dns.query").children, "dns.qry.name"), "example.com");
  // A second message in the segment is left alone.
  tcp.insert(tcp.end(), {0, 1, 0});
  EXPECT_FALSE(decode_dns_tcp(tcp).problem);
  EXPECT_EQ(decode_dns_tcp(Bytes{0}).problem.kind, Problem::Kind::truncated);
  EXPECT_EQ(decode_dns_tcp(Bytes{0, 5, 1, 2, 3, 4, 5}).problem.kind, Problem::Kind::malformed);
}

TEST(DnsMessage, EveryPrefixCutByTheCaptureIsTruncated) {
  for (const Bytes* message : {&kCompressed, &kNxDomain, &kMxTxt, &kSrv, &kEdnsQuery}) {
    const auto length = static_cast<std::uint32_t>(message->size());
    for (std::size_t n = 0; n < message->size(); ++n) {
      const std::span<const std::uint8_t> prefix(message->data(), n);
      const auto m = decode_dns(prefix, length);
      EXPECT_EQ(m.problem.kind, Problem::Kind::truncated) << n;
      EXPECT_LE(m.problem.at, n);
      dissect::Header out;
      describe(m, prefix, 0, out);
      EXPECT_NE(out.problem, "") << n;
      for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, n) << f.key << " " << n;
      EXPECT_FALSE(summary(m, prefix).empty());
      if (n >= 12) {
        EXPECT_NE(summary(m, prefix).find("[|domain]"), std::string::npos) << n;
      }
      // The same bytes as a whole message: its records run past its end.
      EXPECT_EQ(decode_dns(prefix).problem.kind, Problem::Kind::malformed) << n;
    }
  }
}

TEST(DnsMessage, AHeaderCutShortShowsTheCountsThatWereCapturedWithTheirValues) {
  // 10 bytes of kCompressed: ID, flags and three of the four counts (tshark shows the same).
  const std::span<const std::uint8_t> prefix(kCompressed.data(), 10);
  const auto m = decode_dns(prefix, static_cast<std::uint32_t>(kCompressed.size()));
  dissect::Header out;
  describe(m, prefix, 0, out);
  EXPECT_EQ(field_value(out, "dns.count.queries"), "1");
  EXPECT_EQ(field_value(out, "dns.count.answers"), "3");
  EXPECT_EQ(field_value(out, "dns.count.auth_rr"), "1");
  EXPECT_EQ(find_field(out, "dns.count.add_rr"), nullptr);
}

TEST(DnsMessage, APointerToItselfOrBackIntoItsNameIsACompressionLoop) {
  // 12: c0 0c, a pointer to itself.
  const Bytes self = with_question_name(from_hex("c00c"));
  auto m = decode_dns(self);
  EXPECT_EQ(m.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(m.problem.what, "compression loop: a pointer points back into its own name");
  EXPECT_EQ(m.problem.at, 12u);
  // An answer named "a" then a pointer back to its own start (19): a.a.a.a... for ever.
  const Bytes again = from_hex("000181000001000100000000016100000100010161c013");
  m = decode_dns(again);
  EXPECT_EQ(m.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(m.problem.what, "compression loop: a pointer points back into its own name");
  EXPECT_EQ(m.problem.at, 21u);
  // 12 -> 20 points forward.
  const Bytes forward = with_question_name(from_hex("c014"));
  m = decode_dns(forward);
  EXPECT_EQ(m.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(m.problem.what,
               "a compression pointer points forward (it must point back to an earlier name)");
  dissect::Header out;
  describe(m, forward, 0, out);
  EXPECT_NE(out.problem.find("points forward"), std::string::npos);
  EXPECT_EQ(summary(m, forward), "1+ [|domain]");
}

TEST(DnsMessage, LabelsOver63AndNamesOver255AreMalformed) {
  auto m = decode_dns(with_question_name(from_hex("4061")));
  EXPECT_EQ(m.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(m.problem.what,
               "a label longer than 63 bytes (label types 0x40 and 0x80 are reserved)");
  // Four labels of 63 bytes: 4 * 64 + 1 = 257 bytes spelled out.
  Bytes long_name;
  for (int i = 0; i < 4; ++i) {
    long_name.push_back(63);
    long_name.insert(long_name.end(), 63, 'x');
  }
  long_name.push_back(0);
  m = decode_dns(with_question_name(long_name));
  EXPECT_EQ(m.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(m.problem.what, "a name longer than 255 bytes");
  // Three of them and one of 61: exactly 255, allowed.
  long_name.erase(long_name.begin() + 3 * 64, long_name.end());
  long_name.push_back(61);
  long_name.insert(long_name.end(), 61, 'y');
  long_name.push_back(0);
  const Bytes longest = with_question_name(long_name);
  m = decode_dns(longest);
  ASSERT_FALSE(m.problem) << m.problem.what;
  std::string text;
  const auto name = read_name(longest, 12, &text);
  EXPECT_EQ(name.wire_length, 255);
  EXPECT_EQ(name.labels, 4);
  EXPECT_EQ(text.size(), 3 * 64 + 61u);
}

TEST(DnsMessage, RecordDataMustHoldWhatItsTypeNeeds) {
  // An A record with 3 bytes of data.
  Bytes bad_a = kAnswer;
  bad_a[bad_a.size() - 5] = 3;
  bad_a.pop_back();
  auto m = decode_dns(bad_a);
  EXPECT_EQ(m.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(m.problem.what, "an A record's data is not 4 bytes");
  // A CNAME whose name runs past its data length (2 of its 13 bytes).
  Bytes cname = from_hex(
      "000181800000000100000000"
      "00000500010000003c0002076578616d706c6503636f6d00");
  m = decode_dns(cname);
  EXPECT_EQ(m.problem.kind, Problem::Kind::malformed);
  EXPECT_STREQ(m.problem.what, "a name runs past its record's data");
  // A TXT string longer than the data.
  Bytes txt = kMxTxt;
  txt[txt.size() - 12] = 40;
  EXPECT_STREQ(decode_dns(txt).problem.what, "a TXT string runs past its record's data");
  // Special bytes in a label are escaped.
  std::string text;
  read_name(from_hex("03612e6200"), 0, &text);
  EXPECT_EQ(text, "a\\.b");
  text.clear();
  read_name(from_hex("0261ff00"), 0, &text);
  EXPECT_EQ(text, "a\\255");
}

TEST(DnsMessage, AnyCorruptedByteIsDecodedWithinTheBytes) {
  // Each byte of two compressed messages set to values that hit pointers, long labels and
  // lengths: decode, describe and summary stay inside the bytes (ASan checks the reads).
  for (const Bytes* message : {&kCompressed, &kMxTxt}) {
    for (std::size_t i = 0; i < message->size(); ++i) {
      for (const int value : {0x00, 0x01, 0x3f, 0x40, 0xc0, 0xc1, 0xff}) {
        Bytes b = *message;
        b[i] = static_cast<std::uint8_t>(value);
        const auto m = decode_dns(b);
        dissect::Header out;
        describe(m, b, 0, out);
        for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, b.size()) << f.key;
        EXPECT_FALSE(summary(m, b).empty());
      }
    }
  }
}

}  // namespace
}  // namespace duplex::dns
