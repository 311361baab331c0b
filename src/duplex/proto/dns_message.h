// Public. A DNS message (RFC 1035 4.1, EDNS0 of RFC 6891) as `duplex capture` reads it,
// strictly and without heap allocation (the convention of base/dissect.h):
//
//   id(16) QR opcode(4) AA TC RD RA Z AD CD rcode(4) qdcount ancount nscount arcount
//   questions: name type(16) class(16)
//   answer, authority, additional records: name type class ttl(32) rdlength(16) rdata
//
// decode_dns() checks the whole message once: every name (compression pointers must point
// back before the name that uses them, at most 127 of them, at most 255 bytes spelled out),
// every record's data against its length and, for the common types, its layout. The struct
// keeps the header, the first question and the EDNS0 values; describe() and summary() walk
// the records again with DnsRecordReader, which trusts what decode_dns() checked, so nothing
// is stored per record and nothing is allocated. Over TCP a 2-byte length comes first
// (decode_dns_tcp); only the first message of a segment is read.
// All functions are safe to call from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "duplex/base/dissect.h"

namespace duplex::dns {

// The record types that decode_dns() checks the data of and describe() spells out.
enum : std::uint16_t {
  kTypeA = 1,
  kTypeNs = 2,
  kTypeCname = 5,
  kTypeSoa = 6,
  kTypePtr = 12,
  kTypeMx = 15,
  kTypeTxt = 16,
  kTypeAaaa = 28,
  kTypeSrv = 33,
  kTypeDname = 39,
  kTypeOpt = 41,
};

enum class Section : std::uint8_t { question, answer, authority, additional };

struct DnsQuestion {
  std::uint32_t at = 0;       // where the question starts in the message
  std::uint32_t name_at = 0;  // = at; the name may continue elsewhere through a pointer
  std::uint32_t length = 0;   // name as written, type and class
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
};

struct DnsRecord {
  Section section = Section::answer;
  std::uint32_t at = 0;        // where the record starts in the message (its name)
  std::uint32_t rdata_at = 0;  // where its data starts
  std::uint16_t type = 0;
  std::uint16_t klass = 0;  // for OPT: the requestor's UDP payload size
  std::uint32_t ttl = 0;    // for OPT: extended rcode, version, DO and Z
  std::uint16_t rdlength = 0;
};

struct DnsMessage {
  static constexpr std::uint32_t kHeaderLength = 12;
  // Where the message starts in the bytes given to the decoder: 2 over TCP (the length
  // prefix), else 0. Every other position below is from the message's first byte.
  std::uint32_t message_offset = 0;
  std::uint16_t tcp_length = 0;  // the prefix, over TCP
  std::uint32_t length = 0;      // the message on the wire (UDP payload, or the prefix)

  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  // How many questions and records were decoded and checked (all of them, unless `problem`).
  std::uint16_t questions = 0;
  std::uint32_t records = 0;
  DnsQuestion first_question;  // valid when questions > 0

  // EDNS0, from an OPT record in the additional section.
  bool has_edns = false;
  std::uint16_t udp_payload_size = 0;
  bool dnssec_ok = false;  // DO
  std::uint8_t edns_version = 0;

  dissect::Problem problem;  // `at` from the first byte given to the decoder

  bool response() const noexcept { return (flags & 0x8000) != 0; }
  std::uint8_t opcode() const noexcept { return static_cast<std::uint8_t>((flags >> 11) & 0xf); }
  bool authoritative() const noexcept { return (flags & 0x0400) != 0; }
  bool truncated() const noexcept { return (flags & 0x0200) != 0; }
  bool recursion_desired() const noexcept { return (flags & 0x0100) != 0; }
  bool recursion_available() const noexcept { return (flags & 0x0080) != 0; }
  bool authenticated_data() const noexcept { return (flags & 0x0020) != 0; }
  bool checking_disabled() const noexcept { return (flags & 0x0010) != 0; }
  std::uint8_t rcode() const noexcept { return static_cast<std::uint8_t>(flags & 0xf); }
};

// `bytes` is the message as captured (a UDP payload); `length` its length on the wire, so
// that a message cut by the snaplen is "truncated" and one whose records run past its own
// end "malformed"; 0 means `bytes` is the whole message.
DnsMessage decode_dns(std::span<const std::uint8_t> bytes, std::uint32_t length = 0) noexcept;
// The same over TCP: `bytes` is the segment's payload, starting with the 2-byte length.
DnsMessage decode_dns_tcp(std::span<const std::uint8_t> bytes) noexcept;

// "DNS" with dns.length (TCP), dns.id, dns.flags and its bits (dns.flags.response, .opcode,
// .authoritative, .truncated, .recdesired, .recavail, .z, .authenticated, .checkdisable,
// .rcode), dns.count.queries, .answers, .auth_rr, .add_rr; a "dns.query" field per question
// (dns.qry.name, .type, .class) and a "dns.answer", "dns.authority" or "dns.additional" field
// per record (dns.resp.name, .type, .class, .ttl, .len and its data: dns.a, dns.aaaa,
// dns.cname, dns.ns, dns.ptr.domain_name, dns.mx.*, dns.txt, dns.soa.*, dns.srv.*, OPT's
// dns.rr.udp_payload_size, dns.resp.ext_rcode, dns.resp.edns0_version, dns.resp.z.do; other
// types dns.data). `bytes` as given to the decoder.
void describe(const DnsMessage& m, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As tcpdump -nn: "1234+ A? example.com. (29)", "1234 1/0/0 A 93.184.216.34 (45)",
// "99 NXDomain 0/1/0 (96)"; `bytes` as given to the decoder.
std::string summary(const DnsMessage& m, std::span<const std::uint8_t> bytes);

// Reads one name. `message` is the DNS message (from its header: pointers are offsets from
// there), `at` where the name is written. `end` is the byte after it as written (after its
// first pointer or its root label); `text` (when given) gets its labels joined with dots, no
// final dot, "" for the root. Special bytes in a label are escaped as in a zone file: a dot
// or a backslash after a backslash, other bytes as a backslash and three decimal digits.
struct NameRead {
  std::uint32_t end = 0;
  std::uint16_t wire_length = 0;  // spelled out, length bytes and the root included: 1..255
  std::uint8_t labels = 0;
  dissect::Problem problem;  // `at` from the message's first byte
};
NameRead read_name(std::span<const std::uint8_t> message, std::uint32_t at,
                   std::string* text = nullptr);

// Walks the records that decode_dns() checked, in order, questions excluded.
class DnsRecordReader {
 public:
  DnsRecordReader(const DnsMessage& m, std::span<const std::uint8_t> bytes) noexcept;
  // The next record, or false after the last one decoded.
  bool next(DnsRecord& record) noexcept;
  // The next question, or false after the last one decoded; call these first.
  bool next_question(DnsQuestion& question) noexcept;

 private:
  const DnsMessage& m_;
  std::span<const std::uint8_t> message_;
  std::uint32_t pos_ = DnsMessage::kHeaderLength;
  std::uint16_t questions_ = 0;
  std::uint32_t records_ = 0;
};

// "A", "AAAA", "CNAME", "OPT"...: the mnemonic of a type; "" when unknown.
std::string_view type_name(std::uint16_t type) noexcept;
// "IN", "CH", "HS", "ANY"; "" when unknown.
std::string_view class_name(std::uint16_t klass) noexcept;
// "No error", "No such name"...: Wireshark's words for a response code; "" past 10.
std::string_view rcode_meaning(std::uint8_t rcode) noexcept;

}  // namespace duplex::dns
