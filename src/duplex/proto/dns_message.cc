#include "duplex/proto/dns_message.h"

#include <algorithm>
#include <array>

#include "duplex/base/wire.h"

namespace duplex::dns {
namespace {

using dissect::Problem;
using wire::be16;
using wire::be32;

// More pointers than this cannot be honest: each must point before the last, and a name
// holds at most 127 labels.
constexpr unsigned kMaxPointers = 127;
constexpr std::uint32_t kMaxNameLength = 255;

void append_label(std::string& text, std::span<const std::uint8_t> label) {
  if (!text.empty()) text += '.';
  for (const std::uint8_t c : label) {
    if (c == '.' || c == '\\') {
      text += '\\';
      text += static_cast<char>(c);
    } else if (c < 0x21 || c > 0x7e) {
      const char digits[] = {'\\', static_cast<char>('0' + c / 100),
                             static_cast<char>('0' + c / 10 % 10), static_cast<char>('0' + c % 10)};
      text.append(digits, 4);
    } else {
      text += static_cast<char>(c);
    }
  }
}

// Checks what decode_dns() must know of a record's data: its layout for the common types,
// every name in it. `message` is the message as far as it was captured, the data whole.
Problem check_rdata(std::span<const std::uint8_t> message, const DnsRecord& r) noexcept {
  const std::uint32_t begin = r.rdata_at, end = r.rdata_at + r.rdlength;
  const auto name_within = [&](std::uint32_t at) noexcept -> Problem {
    const NameRead name = read_name(message.first(end), at);
    if (name.problem) {
      if (name.problem.kind == Problem::Kind::truncated)
        return {Problem::Kind::malformed, "a name runs past its record's data", name.problem.at};
      return name.problem;
    }
    return {};
  };
  switch (r.type) {
    case kTypeA:
      if (r.rdlength != 4)
        return {Problem::Kind::malformed, "an A record's data is not 4 bytes", begin};
      return {};
    case kTypeAaaa:
      if (r.rdlength != 16)
        return {Problem::Kind::malformed, "an AAAA record's data is not 16 bytes", begin};
      return {};
    case kTypeNs:
    case kTypeCname:
    case kTypePtr:
    case kTypeDname:
      return name_within(begin);
    case kTypeMx:
      if (r.rdlength < 3) return {Problem::Kind::malformed, "an MX record needs 3 bytes", begin};
      return name_within(begin + 2);
    case kTypeSrv:
      if (r.rdlength < 7) return {Problem::Kind::malformed, "an SRV record needs 7 bytes", begin};
      return name_within(begin + 6);
    case kTypeSoa: {
      if (auto p = name_within(begin)) return p;
      const NameRead mname = read_name(message, begin);
      if (auto p = name_within(mname.end)) return p;
      const NameRead rname = read_name(message, mname.end);
      if (rname.end + 20 > end)
        return {Problem::Kind::malformed, "an SOA record needs 20 bytes after its names",
                rname.end};
      return {};
    }
    case kTypeTxt:
      for (std::uint32_t at = begin; at < end; at += 1u + message[at])
        if (at + 1u + message[at] > end)
          return {Problem::Kind::malformed, "a TXT string runs past its record's data", at};
      return {};
    case kTypeOpt:
      for (std::uint32_t at = begin; at < end; at += 4u + be16(&message[at + 2])) {
        if (at + 4 > end || at + 4u + be16(&message[at + 2]) > end)
          return {Problem::Kind::malformed, "an EDNS0 option runs past its record's data", at};
      }
      return {};
  }
  return {};
}

}  // namespace

NameRead read_name(std::span<const std::uint8_t> message, std::uint32_t at, std::string* text) {
  NameRead r;
  const auto size = static_cast<std::uint32_t>(message.size());
  std::uint32_t pos = at;
  // A pointer must point before the labels being read, so that every jump goes further
  // back and no chain of pointers can come round again.
  std::uint32_t run_start = at;
  bool jumped = false;
  unsigned pointers = 0;
  std::uint32_t wire_length = 0;
  for (;;) {
    if (pos >= size) {
      r.problem = {Problem::Kind::truncated, "the name runs past the captured bytes", pos};
      return r;
    }
    const std::uint8_t len = message[pos];
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= size) {
        r.problem = {Problem::Kind::truncated, "a compression pointer needs 2 bytes", pos};
        return r;
      }
      const std::uint32_t target = ((len & 0x3fu) << 8) | message[pos + 1];
      if (!jumped) r.end = pos + 2;
      if (target > pos) {
        r.problem = {Problem::Kind::malformed,
                     "a compression pointer points forward (it must point back to an earlier "
                     "name)",
                     pos};
        return r;
      }
      if (target >= run_start) {
        r.problem = {Problem::Kind::malformed,
                     "compression loop: a pointer points back into its own name", pos};
        return r;
      }
      if (++pointers > kMaxPointers) {
        r.problem = {Problem::Kind::malformed, "compression loop: more than 127 pointers", pos};
        return r;
      }
      jumped = true;
      pos = run_start = target;
      continue;
    }
    if ((len & 0xc0) != 0) {
      r.problem = {Problem::Kind::malformed,
                   "a label longer than 63 bytes (label types 0x40 and 0x80 are reserved)", pos};
      return r;
    }
    if (wire_length + 1u + len + (len != 0 ? 1u : 0u) > kMaxNameLength) {
      r.problem = {Problem::Kind::malformed, "a name longer than 255 bytes", pos};
      return r;
    }
    wire_length += 1u + len;
    if (len == 0) {
      if (!jumped) r.end = pos + 1;
      r.wire_length = static_cast<std::uint16_t>(wire_length);
      return r;
    }
    if (pos + 1u + len > size) {
      r.problem = {Problem::Kind::truncated, "a label runs past the captured bytes", pos};
      return r;
    }
    if (text) append_label(*text, message.subspan(pos + 1, len));
    ++r.labels;
    pos += 1u + len;
  }
}

DnsMessage decode_dns(std::span<const std::uint8_t> bytes, std::uint32_t length) noexcept {
  DnsMessage m;
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  if (length == 0) length = captured;
  m.length = length;
  // Past the message's own end a record is malformed; past the capture, only cut short.
  const bool whole = captured >= length;
  const auto message = bytes.first(std::min(captured, length));
  const auto size = static_cast<std::uint32_t>(message.size());
  // Every header field that was captured is kept: describe() shows them.
  if (size >= 2) m.id = be16(&message[0]);
  if (size >= 4) m.flags = be16(&message[2]);
  if (size >= 6) m.qdcount = be16(&message[4]);
  if (size >= 8) m.ancount = be16(&message[6]);
  if (size >= 10) m.nscount = be16(&message[8]);
  if (size < DnsMessage::kHeaderLength) {
    m.problem = whole ? Problem{Problem::Kind::malformed, "a DNS message needs 12 bytes", size}
                      : Problem{Problem::Kind::truncated, "the DNS header needs 12 bytes", size};
    return m;
  }
  m.arcount = be16(&message[10]);

  std::uint32_t pos = DnsMessage::kHeaderLength;
  const auto fail = [&](const char* cut, const char* past_end, std::uint32_t at) noexcept {
    m.problem = whole ? Problem{Problem::Kind::malformed, past_end, at}
                      : Problem{Problem::Kind::truncated, cut, at};
  };
  const auto name_at = [&](std::uint32_t at) noexcept -> NameRead {
    NameRead name = read_name(message, at);
    if (name.problem.kind == Problem::Kind::truncated)
      fail(name.problem.what, "a name runs past the end of the message", name.problem.at);
    else if (name.problem)
      m.problem = name.problem;
    return name;
  };

  for (; m.questions < m.qdcount; ++m.questions) {
    const NameRead name = name_at(pos);
    if (m.problem) return m;
    if (name.end + 4 > size) {
      fail("the question's type and class were not captured",
           "a question runs past the end of the message", name.end);
      return m;
    }
    if (m.questions == 0)
      m.first_question = {pos, pos, name.end + 4 - pos, be16(&message[name.end]),
                          be16(&message[name.end + 2])};
    pos = name.end + 4;
  }

  const std::uint32_t total = std::uint32_t{m.ancount} + m.nscount + m.arcount;
  for (; m.records < total; ++m.records) {
    const NameRead name = name_at(pos);
    if (m.problem) return m;
    if (name.end + 10 > size) {
      fail("the record's type, class, TTL and length were not captured",
           "a record runs past the end of the message", name.end);
      return m;
    }
    DnsRecord r;
    r.at = pos;
    r.type = be16(&message[name.end]);
    r.klass = be16(&message[name.end + 2]);
    r.ttl = be32(&message[name.end + 4]);
    r.rdlength = be16(&message[name.end + 8]);
    r.rdata_at = name.end + 10;
    if (r.rdata_at + r.rdlength > size) {
      fail("the record's data was not captured", "a record's data runs past the end of the message",
           r.rdata_at);
      return m;
    }
    if (const Problem p = check_rdata(message, r)) {
      m.problem = p;
      return m;
    }
    if (r.type == kTypeOpt && !m.has_edns && m.records >= std::uint32_t{m.ancount} + m.nscount) {
      m.has_edns = true;
      m.udp_payload_size = r.klass;
      m.edns_version = static_cast<std::uint8_t>(r.ttl >> 16);
      m.dnssec_ok = (r.ttl & 0x8000) != 0;
    }
    pos = r.rdata_at + r.rdlength;
  }
  return m;
}

DnsMessage decode_dns_tcp(std::span<const std::uint8_t> bytes) noexcept {
  if (bytes.size() < 2) {
    DnsMessage m;
    m.problem = {Problem::Kind::truncated, "the DNS length prefix needs 2 bytes",
                 static_cast<std::uint32_t>(bytes.size())};
    return m;
  }
  const std::uint16_t length = be16(bytes.data());
  DnsMessage m;
  if (length < DnsMessage::kHeaderLength) {
    m.problem = {Problem::Kind::malformed, "the length prefix is below the 12-byte DNS header", 0};
  } else {
    m = decode_dns(bytes.subspan(2), length);
    if (m.problem) m.problem.at += 2;
  }
  m.message_offset = 2;
  m.tcp_length = length;
  m.length = length;
  return m;
}

DnsRecordReader::DnsRecordReader(const DnsMessage& m, std::span<const std::uint8_t> bytes) noexcept
    : m_(m),
      message_(bytes.subspan(std::min<std::size_t>(m.message_offset, bytes.size()))
                   .first(std::min<std::size_t>(
                       m.length,
                       bytes.size() - std::min<std::size_t>(m.message_offset, bytes.size())))) {}

bool DnsRecordReader::next_question(DnsQuestion& q) noexcept {
  if (questions_ >= m_.questions) return false;
  const std::uint32_t end = read_name(message_, pos_).end;
  q = {pos_, pos_, end + 4 - pos_, be16(&message_[end]), be16(&message_[end + 2])};
  pos_ = end + 4;
  ++questions_;
  return true;
}

bool DnsRecordReader::next(DnsRecord& r) noexcept {
  for (DnsQuestion q; next_question(q);) {
  }
  if (records_ >= m_.records) return false;
  const std::uint32_t end = read_name(message_, pos_).end;
  r.section = records_ < m_.ancount                               ? Section::answer
              : records_ < std::uint32_t{m_.ancount} + m_.nscount ? Section::authority
                                                                  : Section::additional;
  r.at = pos_;
  r.type = be16(&message_[end]);
  r.klass = be16(&message_[end + 2]);
  r.ttl = be32(&message_[end + 4]);
  r.rdlength = be16(&message_[end + 8]);
  r.rdata_at = end + 10;
  pos_ = r.rdata_at + r.rdlength;
  ++records_;
  return true;
}

std::string_view type_name(std::uint16_t type) noexcept {
  struct Entry {
    std::uint16_t type;
    std::string_view name;
  };
  static constexpr std::array<Entry, 37> kTypes{{
      {1, "A"},       {2, "NS"},     {5, "CNAME"},       {6, "SOA"},    {12, "PTR"},
      {13, "HINFO"},  {15, "MX"},    {16, "TXT"},        {17, "RP"},    {18, "AFSDB"},
      {24, "SIG"},    {25, "KEY"},   {28, "AAAA"},       {29, "LOC"},   {33, "SRV"},
      {35, "NAPTR"},  {36, "KX"},    {37, "CERT"},       {38, "A6"},    {39, "DNAME"},
      {41, "OPT"},    {43, "DS"},    {44, "SSHFP"},      {46, "RRSIG"}, {47, "NSEC"},
      {48, "DNSKEY"}, {50, "NSEC3"}, {51, "NSEC3PARAM"}, {52, "TLSA"},  {64, "SVCB"},
      {65, "HTTPS"},  {99, "SPF"},   {250, "TSIG"},      {251, "IXFR"}, {252, "AXFR"},
      {255, "ANY"},   {257, "CAA"},
  }};
  for (const auto& e : kTypes)
    if (e.type == type) return e.name;
  return "";
}

std::string_view class_name(std::uint16_t klass) noexcept {
  switch (klass) {
    case 1:
      return "IN";
    case 3:
      return "CH";
    case 4:
      return "HS";
    case 254:
      return "NONE";
    case 255:
      return "ANY";
  }
  return "";
}

std::string_view rcode_meaning(std::uint8_t rcode) noexcept {
  static constexpr std::array<std::string_view, 11> kMeanings{
      "No error",          "Format error",    "Server failure",
      "No such name",      "Not implemented", "Refused",
      "Name exists",       "RRset exists",    "RRset does not exist",
      "Not authoritative", "Name out of zone"};
  return rcode < kMeanings.size() ? kMeanings[rcode] : "";
}

}  // namespace duplex::dns
