// describe() and summary() of a DNS message: the records as Wireshark names their fields and
// as tcpdump prints them.
#include <algorithm>
#include <array>

#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"
#include "duplex/inet/address.h"
#include "duplex/proto/dns_message.h"

namespace duplex::dns {
namespace {

using dissect::decimal;
using dissect::Field;
using dissect::hex;
using wire::be16;
using wire::be32;

// The message as the reader sees it: from its header, at most its length, as captured.
std::span<const std::uint8_t> message_of(const DnsMessage& m, std::span<const std::uint8_t> bytes) {
  const auto after = bytes.subspan(std::min<std::size_t>(m.message_offset, bytes.size()));
  return after.first(std::min<std::size_t>(m.length, after.size()));
}

std::string name_text(std::span<const std::uint8_t> message, std::uint32_t at) {
  std::string text;
  read_name(message, at, &text);
  return text;
}

// "example.com", "<Root>": Wireshark's text of a name.
std::string shown_name(std::span<const std::uint8_t> message, std::uint32_t at) {
  std::string text = name_text(message, at);
  return text.empty() ? "<Root>" : text;
}

// "example.com.", ".": tcpdump's.
std::string dotted_name(std::span<const std::uint8_t> message, std::uint32_t at) {
  return name_text(message, at) + ".";
}

std::string type_text(std::uint16_t type) {
  const auto name = type_name(type);
  // tcpdump 4.99 names neither SVCB nor HTTPS.
  if (name.empty() || type == 64 || type == 65) return "Type" + decimal(type);
  return std::string(name);
}

// tcpdump's class words, before the type when the class is not IN.
std::string class_text(std::uint16_t klass) {
  switch (klass) {
    case 3:
      return "CHAOS";
    case 4:
      return "HS";
    case 255:
      return "ANY";
  }
  return "(Class " + decimal(klass) + ")";
}

std::string quoted_strings(std::span<const std::uint8_t> message, const DnsRecord& r) {
  std::string s;
  const std::uint32_t end = r.rdata_at + r.rdlength;
  for (std::uint32_t at = r.rdata_at; at < end; at += 1u + message[at]) {
    s += s.empty() ? "\"" : " \"";
    s.append(reinterpret_cast<const char*>(&message[at + 1]), message[at]);
    s += '"';
  }
  return s;
}

// One answer as tcpdump prints it: "A 93.184.216.34", "MX mail.example.com. 10".
std::string record_text(std::span<const std::uint8_t> message, const DnsRecord& r) {
  std::string s;
  if (r.klass != 1 && r.type != kTypeOpt) s = class_text(r.klass) + " ";
  s += type_text(r.type);
  const std::uint8_t* d = &message[r.rdata_at];
  switch (r.type) {
    case kTypeA:
      return s + " " + inet::Address::v4(be32(d)).to_string();
    case kTypeAaaa: {
      std::array<std::uint8_t, 16> a{};
      std::copy_n(d, a.size(), a.begin());
      return s + " " + inet::Address::v6(a).to_string();
    }
    case kTypeNs:
    case kTypeCname:
    case kTypePtr:
    case kTypeDname:
      return s + " " + dotted_name(message, r.rdata_at);
    case kTypeMx:
      return s + " " + dotted_name(message, r.rdata_at + 2) + " " + decimal(be16(d));
    case kTypeSrv:
      return s + " " + dotted_name(message, r.rdata_at + 6) + ":" + decimal(be16(d + 4)) + " " +
             decimal(be16(d)) + " " + decimal(be16(d + 2));
    case kTypeTxt:
      return s + " " + quoted_strings(message, r);
    case kTypeOpt:
      return s + " UDPsize=" + decimal(r.klass) + ((r.ttl & 0x8000) ? " DO" : "");
  }
  return s;
}

std::string_view opcode_meaning(std::uint8_t opcode) noexcept {
  static constexpr std::array<std::string_view, 7> kMeanings{
      "Standard query", "Inverse query",  "Server status request",        "",
      "Notify",         "Dynamic update", "DNS Stateful operations (DSO)"};
  return opcode < kMeanings.size() ? kMeanings[opcode] : "";
}

// tcpdump's word after the id for an opcode: "", " inv_q", " notify"...
std::string_view opcode_word(std::uint8_t opcode) noexcept {
  static constexpr std::array<std::string_view, 16> kWords{
      "",         " inv_q",    " stat",     " op3",     " notify",  " update",
      " op6",     " op7",      " op8",      " updateA", " updateD", " updateDA",
      " updateM", " updateMA", " zoneInit", " zoneRef"};
  return kWords[opcode & 0xf];
}

std::string_view rcode_word(std::uint8_t rcode) noexcept {
  static constexpr std::array<std::string_view, 16> kWords{
      "",          " FormErr", " ServFail", " NXDomain", " NotImp",  " Refused",
      " YXDomain", " YXRRSet", " NXRRSet",  " NotAuth",  " NotZone", " Resp11",
      " Resp12",   " Resp13",  " Resp14",   " NoChange"};
  return kWords[rcode & 0xf];
}

void describe_flags(const DnsMessage& m, Field& f, std::uint32_t at) {
  const auto bit = [&](const char* key, const char* label, bool set, const char* yes,
                       const char* no) {
    add(f.children, key, label, set ? "1" : "0", at, 2, set ? yes : no);
  };
  bit("dns.flags.response", "Response", m.response(), "Message is a response",
      "Message is a query");
  add(f.children, "dns.flags.opcode", "Opcode", decimal(m.opcode()), at, 2,
      std::string(opcode_meaning(m.opcode())));
  if (m.response())
    bit("dns.flags.authoritative", "Authoritative", m.authoritative(),
        "Server is an authority for domain", "Server is not an authority for domain");
  bit("dns.flags.truncated", "Truncated", m.truncated(), "Message is truncated",
      "Message is not truncated");
  bit("dns.flags.recdesired", "Recursion desired", m.recursion_desired(), "Do query recursively",
      "Do not query recursively");
  if (m.response())
    bit("dns.flags.recavail", "Recursion available", m.recursion_available(),
        "Server can do recursive queries", "Server can't do recursive queries");
  bit("dns.flags.z", "Z", (m.flags & 0x0040) != 0, "reserved (1)", "reserved (0)");
  bit("dns.flags.authenticated", "Answer authenticated", m.authenticated_data(),
      "Answer/authority portion was authenticated by the server",
      "Answer/authority portion was not authenticated by the server");
  bit("dns.flags.checkdisable", "Non-authenticated data", m.checking_disabled(), "Acceptable",
      "Unacceptable");
  if (m.response())
    add(f.children, "dns.flags.rcode", "Reply code", decimal(m.rcode()), at, 2,
        std::string(rcode_meaning(m.rcode())));
}

// The data of one record, as Wireshark's fields; `base` is the message's absolute offset.
void describe_rdata(std::span<const std::uint8_t> message, const DnsRecord& r, std::uint32_t base,
                    std::vector<Field>& to) {
  const std::uint8_t* d = &message[r.rdata_at];
  const std::uint32_t at = base + r.rdata_at;
  const std::uint32_t end = r.rdata_at + r.rdlength;
  const auto name_field = [&](const char* key, const char* label, std::uint32_t pos) {
    add(to, key, label, shown_name(message, pos), base + pos, read_name(message, pos).end - pos);
  };
  switch (r.type) {
    case kTypeA:
      add(to, "dns.a", "Address", inet::Address::v4(be32(d)).to_string(), at, 4);
      return;
    case kTypeAaaa: {
      std::array<std::uint8_t, 16> a{};
      std::copy_n(d, a.size(), a.begin());
      add(to, "dns.aaaa", "AAAA Address", inet::Address::v6(a).to_string(), at, 16);
      return;
    }
    case kTypeNs:
      return name_field("dns.ns", "Name Server", r.rdata_at);
    case kTypeCname:
      return name_field("dns.cname", "CNAME", r.rdata_at);
    case kTypePtr:
      return name_field("dns.ptr.domain_name", "Domain Name", r.rdata_at);
    case kTypeDname:
      return name_field("dns.dname", "Dname", r.rdata_at);
    case kTypeMx:
      add(to, "dns.mx.preference", "Preference", decimal(be16(d)), at, 2);
      return name_field("dns.mx.mail_exchange", "Mail Exchange", r.rdata_at + 2);
    case kTypeSrv:
      add(to, "dns.srv.priority", "Priority", decimal(be16(d)), at, 2);
      add(to, "dns.srv.weight", "Weight", decimal(be16(d + 2)), at + 2, 2);
      add(to, "dns.srv.port", "Port", decimal(be16(d + 4)), at + 4, 2);
      return name_field("dns.srv.target", "Target", r.rdata_at + 6);
    case kTypeSoa: {
      name_field("dns.soa.mname", "Primary name server", r.rdata_at);
      const std::uint32_t rname = read_name(message, r.rdata_at).end;
      name_field("dns.soa.rname", "Responsible authority's mailbox", rname);
      const std::uint32_t p = read_name(message, rname).end;
      static constexpr std::array<std::pair<const char*, const char*>, 5> kNumbers{{
          {"dns.soa.serial_number", "Serial Number"},
          {"dns.soa.refresh_interval", "Refresh Interval"},
          {"dns.soa.retry_interval", "Retry Interval"},
          {"dns.soa.expire_limit", "Expire limit"},
          {"dns.soa.minimum_ttl", "Minimum TTL"},
      }};
      for (std::uint32_t i = 0; i < kNumbers.size(); ++i)
        add(to, kNumbers[i].first, kNumbers[i].second, decimal(be32(&message[p + 4 * i])),
            base + p + 4 * i, 4);
      return;
    }
    case kTypeTxt:
      for (std::uint32_t p = r.rdata_at; p < end; p += 1u + message[p]) {
        add(to, "dns.txt.length", "TXT Length", decimal(message[p]), base + p, 1);
        add(to, "dns.txt", "TXT",
            std::string(reinterpret_cast<const char*>(&message[p + 1]), message[p]), base + p + 1,
            message[p]);
      }
      return;
    case kTypeOpt:
      for (std::uint32_t p = r.rdata_at; p < end; p += 4u + be16(&message[p + 2])) {
        const std::uint16_t length = be16(&message[p + 2]);
        auto& o = add(to, "dns.opt", "Option", decimal(be16(&message[p])), base + p, 4u + length);
        add(o.children, "dns.opt.code", "Option Code", decimal(be16(&message[p])), base + p, 2);
        add(o.children, "dns.opt.len", "Option Length", decimal(length), base + p + 2, 2);
        if (length != 0)
          add(o.children, "dns.opt.data", "Option Data",
              wire::colon_hex(message.subspan(p + 4, length)), base + p + 4, length);
      }
      return;
  }
  if (r.rdlength != 0)
    add(to, "dns.data", "Data", wire::colon_hex(message.subspan(r.rdata_at, r.rdlength)), at,
        r.rdlength);
}

void describe_record(std::span<const std::uint8_t> message, const DnsRecord& r, std::uint32_t base,
                     std::vector<Field>& to) {
  static constexpr std::array<std::pair<const char*, const char*>, 3> kSections{
      {{"dns.answer", "Answer"},
       {"dns.authority", "Authoritative nameserver"},
       {"dns.additional", "Additional record"}}};
  const auto& [key, label] = kSections[static_cast<std::size_t>(r.section) - 1];
  const std::string name = shown_name(message, r.at);
  const std::uint32_t name_length = r.rdata_at - 10 - r.at;
  const std::uint32_t t = r.rdata_at - 10;  // type, class, TTL, length
  std::string value = name + ": type " + type_text(r.type);
  if (r.type != kTypeOpt) value += ", class " + std::string(class_name(r.klass));
  auto& f = add(to, key, label, value, base + r.at, r.rdata_at + r.rdlength - r.at);
  add(f.children, "dns.resp.name", "Name", name, base + r.at, name_length);
  add(f.children, "dns.resp.type", "Type", decimal(r.type), base + t, 2,
      std::string(type_name(r.type)));
  if (r.type == kTypeOpt) {
    add(f.children, "dns.rr.udp_payload_size", "UDP payload size", decimal(r.klass), base + t + 2,
        2);
    add(f.children, "dns.resp.ext_rcode", "Higher bits in extended RCODE", hex(r.ttl >> 24, 2),
        base + t + 4, 1);
    add(f.children, "dns.resp.edns0_version", "EDNS0 version", decimal((r.ttl >> 16) & 0xff),
        base + t + 5, 1);
    auto& z = add(f.children, "dns.resp.z", "Z", hex(r.ttl & 0xffff, 4), base + t + 6, 2);
    add(z.children, "dns.resp.z.do", "DO bit", (r.ttl & 0x8000) ? "1" : "0", base + t + 6, 2,
        (r.ttl & 0x8000) ? "Accepts DNSSEC security RRs" : "Cannot handle DNSSEC security RRs");
  } else {
    add(f.children, "dns.resp.class", "Class", hex(r.klass, 4), base + t + 2, 2,
        std::string(class_name(r.klass)));
    add(f.children, "dns.resp.ttl", "Time to live", decimal(r.ttl), base + t + 4, 4);
  }
  add(f.children, "dns.resp.len", "Data length", decimal(r.rdlength), base + t + 8, 2);
  describe_rdata(message, r, base, f.children);
}

}  // namespace

void describe(const DnsMessage& m, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = "DNS";
  out.layer = dissect::Layer::application;
  out.offset = offset;
  const auto message = message_of(m, bytes);
  out.length = m.message_offset + static_cast<std::uint32_t>(message.size());
  out.problem = dissect::to_string(m.problem);
  dissect::CapturedFields field(out, offset, bytes.size());
  const std::uint32_t b = m.message_offset;
  if (b != 0) field("dns.length", "Length", decimal(m.tcp_length), 0, 2);
  field("dns.id", "Transaction ID", hex(m.id, 4), b, 2);
  if (auto* f =
          field("dns.flags", "Flags", hex(m.flags, 4), b + 2, 2,
                std::string(opcode_meaning(m.opcode())) +
                    (m.response() ? " response, " + std::string(rcode_meaning(m.rcode())) : "")))
    describe_flags(m, *f, offset + b + 2);
  field("dns.count.queries", "Questions", decimal(m.qdcount), b + 4, 2);
  field("dns.count.answers", "Answer RRs", decimal(m.ancount), b + 6, 2);
  field("dns.count.auth_rr", "Authority RRs", decimal(m.nscount), b + 8, 2);
  field("dns.count.add_rr", "Additional RRs", decimal(m.arcount), b + 10, 2);
  if (message.size() < DnsMessage::kHeaderLength) return;

  const std::uint32_t base = offset + b;
  DnsRecordReader reader(m, bytes);
  for (DnsQuestion q; reader.next_question(q);) {
    const std::string name = shown_name(message, q.name_at);
    auto& f =
        add(out.fields, "dns.query", "Query",
            name + ": type " + type_text(q.type) + ", class " + std::string(class_name(q.klass)),
            base + q.at, q.length);
    add(f.children, "dns.qry.name", "Name", name, base + q.at, q.length - 4);
    add(f.children, "dns.qry.type", "Type", decimal(q.type), base + q.at + q.length - 4, 2,
        std::string(type_name(q.type)));
    add(f.children, "dns.qry.class", "Class", hex(q.klass, 4), base + q.at + q.length - 2, 2,
        std::string(class_name(q.klass)));
  }
  for (DnsRecord r; reader.next(r);) describe_record(message, r, base, out.fields);
}

std::string summary(const DnsMessage& m, std::span<const std::uint8_t> bytes) {
  const auto message = message_of(m, bytes);
  if (message.size() < DnsMessage::kHeaderLength) return "[|domain]";
  std::string s = decimal(m.id);
  s += opcode_word(m.opcode());
  DnsRecordReader reader(m, bytes);
  if (m.response()) {
    s += rcode_word(m.rcode());
    if (m.authoritative()) s += '*';
    if (!m.recursion_available()) s += '-';
    if (m.truncated()) s += '|';
    if (m.authenticated_data()) s += '$';
    if (m.qdcount != 1) s += " [" + decimal(m.qdcount) + "q]";
    s += " " + decimal(m.ancount) + "/" + decimal(m.nscount) + "/" + decimal(m.arcount);
    DnsRecord r;
    for (std::uint32_t i = 0; i < m.ancount && reader.next(r); ++i)
      s += (i == 0 ? " " : ", ") + record_text(message, r);
  } else {
    if (m.recursion_desired()) s += '+';
    if (m.checking_disabled()) s += '%';
    if (m.flags & 0x6cf) s += " [b2&3=" + hex(m.flags, 1) + "]";
    if (m.opcode() == 1) {
      if (m.qdcount != 0) s += " [" + decimal(m.qdcount) + "q]";
      if (m.ancount != 1) s += " [" + decimal(m.ancount) + "a]";
    } else {
      if (m.ancount != 0) s += " [" + decimal(m.ancount) + "a]";
      if (m.qdcount != 1) s += " [" + decimal(m.qdcount) + "q]";
    }
    if (m.nscount != 0) s += " [" + decimal(m.nscount) + "n]";
    if (m.arcount != 0) s += " [" + decimal(m.arcount) + "au]";
    for (DnsQuestion q; reader.next_question(q);) {
      s += " " + type_text(q.type);
      if (q.klass != 1) s += " " + class_text(q.klass);
      s += "? " + dotted_name(message, q.name_at);
    }
  }
  if (m.problem) return s + " [|domain]";
  return s + " (" + decimal(m.length) + ")";
}

}  // namespace duplex::dns
