#include "duplex/inet/ipv4_header.h"

#include <algorithm>

#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"

namespace duplex::inet {
namespace {

using dissect::add;
using dissect::decimal;
using dissect::hex;
using dissect::Problem;
using wire::be16;
using wire::be32;

constexpr std::uint8_t kOptionEol = 0;
constexpr std::uint8_t kOptionNop = 1;
constexpr std::uint8_t kOptionRecordRoute = 7;
constexpr std::uint8_t kOptionTimestamp = 68;
constexpr std::uint8_t kOptionLsrr = 131;
constexpr std::uint8_t kOptionSsrr = 137;
constexpr std::uint8_t kOptionRouterAlert = 148;

// An option's names: Wireshark's key suffix (ip.options.<key>), tcpdump's word, the long name.
struct OptionName {
  std::uint8_t type;
  const char* key;
  const char* tcpdump;
  const char* name;
};
constexpr OptionName kOptionNames[] = {
    {kOptionEol, "eol", "EOL", "End of Options List (EOL)"},
    {kOptionNop, "nop", "NOP", "No-Operation (NOP)"},
    {kOptionRecordRoute, "record_route", "RR", "Record Route"},
    {kOptionTimestamp, "timestamp", "TS", "Time Stamp"},
    {kOptionLsrr, "lsrr", "LSRR", "Loose Source Route"},
    {kOptionSsrr, "ssrr", "SSRR", "Strict Source Route"},
    {kOptionRouterAlert, "routeralert", "RA", "Router Alert"},
    {130, "security", "SEC", "Security (RIPSO)"},
    {136, "sid", "SID", "Stream Identifier"},
    {25, "qs", "QS", "Quick-Start"},
};

const OptionName* option_name(std::uint8_t type) noexcept {
  for (const auto& n : kOptionNames)
    if (n.type == type) return &n;
  return nullptr;
}

std::string_view ecn_name(std::uint8_t ecn) noexcept {
  constexpr std::string_view kNames[] = {"Not-ECT", "ECT(1)", "ECT(0)", "CE"};
  return kNames[ecn & 3];
}

// Reads the options between byte 20 and the header's end; a length that runs past the
// header, or is below 2, is malformed.
void decode_options(std::span<const std::uint8_t> header, Ipv4Header& h) noexcept {
  std::uint32_t pos = Ipv4Header::kMinLength;
  while (pos < header.size() && h.option_count < Ipv4Header::kMaxOptions) {
    Ipv4Option& o = h.options[h.option_count];
    o.type = header[pos];
    o.at = static_cast<std::uint8_t>(pos);
    o.length = 1;
    if (o.type == kOptionEol || o.type == kOptionNop) {
      ++h.option_count;
      if (o.type == kOptionEol) return;  // what follows is padding
      ++pos;
      continue;
    }
    if (pos + 1 >= header.size()) {
      h.problem = {Problem::Kind::malformed, "an option's length byte is past the header", pos};
      return;
    }
    o.length = header[pos + 1];
    if (o.length < 2) {
      h.problem = {Problem::Kind::malformed, "an option length is below 2", pos + 1};
      return;
    }
    if (pos + o.length > header.size()) {
      h.problem = {Problem::Kind::malformed, "an option's length runs past the header", pos + 1};
      return;
    }
    ++h.option_count;
    pos += o.length;
  }
}

}  // namespace

std::string_view protocol_name(std::uint8_t protocol) noexcept {
  switch (protocol) {
    case 0:
      return "Options";  // IPv6 hop-by-hop options
    case kProtocolIcmp:
      return "ICMP";
    case 2:
      return "IGMP";
    case 4:
      return "IPIP";
    case kProtocolTcp:
      return "TCP";
    case kProtocolUdp:
      return "UDP";
    case 41:
      return "IPv6";
    case 43:
      return "Routing";
    case 44:
      return "Fragment";
    case 47:
      return "GRE";
    case 50:
      return "ESP";
    case 51:
      return "AH";
    case kProtocolIcmpv6:
      return "ICMPv6";
    case 59:
      return "NoNxt";  // tcpdump has no name for these two; IANA's keywords
    case 60:
      return "IPv6-Opts";
    case 89:
      return "OSPF";
    case 103:
      return "PIM";
    case 112:
      return "VRRP";
    case 132:
      return "SCTP";
    case 135:
      return "Mobility";
    case 136:
      return "UDPLite";
  }
  return "";
}

Ipv4Header decode_ipv4(std::span<const std::uint8_t> bytes) noexcept {
  Ipv4Header h;
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  // The fixed part read from a zero-padded copy, so that a truncated header keeps what it had.
  std::array<std::uint8_t, Ipv4Header::kMinLength> b{};
  std::copy_n(bytes.begin(), std::min<std::size_t>(bytes.size(), b.size()), b.begin());
  h.version = b[0] >> 4;
  h.ihl = b[0] & 0x0f;
  h.dscp = b[1] >> 2;
  h.ecn = b[1] & 3;
  h.total_length = be16(&b[2]);
  h.id = be16(&b[4]);
  h.reserved_flag = (b[6] & 0x80) != 0;
  h.dont_fragment = (b[6] & 0x40) != 0;
  h.more_fragments = (b[6] & 0x20) != 0;
  h.fragment_offset = be16(&b[6]) & 0x1fff;
  h.ttl = b[8];
  h.protocol = b[9];
  h.checksum = be16(&b[10]);
  h.source = Address::v4(be32(&b[12]));
  h.destination = Address::v4(be32(&b[16]));
  if (captured == 0) {
    h.problem = {Problem::Kind::truncated, "the IPv4 header needs 20 bytes", 0};
    return h;
  }
  if (h.version != 4) {
    h.problem = {Problem::Kind::malformed, "the version is not 4", 0};
    return h;
  }
  if (h.ihl < 5) {
    h.problem = {Problem::Kind::malformed, "IHL is below 5 (20 bytes)", 0};
    return h;
  }
  if (captured < Ipv4Header::kMinLength) {
    h.problem = {Problem::Kind::truncated, "the IPv4 header needs 20 bytes", captured};
    return h;
  }
  const std::uint32_t length = h.ihl * 4u;
  if (h.total_length < length) {
    h.problem = {Problem::Kind::malformed, "the total length is shorter than the header", 2};
    return h;
  }
  if (captured < length) {
    h.problem = {Problem::Kind::truncated, "the IPv4 header needs IHL * 4 bytes with its options",
                 captured};
    return h;
  }
  h.header_length = length;
  const auto header = bytes.first(length);
  h.checksum_status =
      checksum_fold(checksum_add(0, header)) == 0 ? ChecksumStatus::good : ChecksumStatus::bad;
  decode_options(header, h);
  const std::uint32_t end = std::min<std::uint32_t>(h.total_length, captured);
  h.payload_length = end - length;
  h.payload_truncated = h.total_length > captured;
  return h;
}

namespace {

// The fields of one option as Wireshark shows them; `o` lies inside `bytes`.
void describe_option(const Ipv4Option& o, std::span<const std::uint8_t> bytes, std::uint32_t offset,
                     dissect::Field& f) {
  const std::uint32_t at = offset + o.at;
  const auto* name = option_name(o.type);
  add(f.children, "ip.opt.type", "Type", decimal(o.type), at, 1, name ? name->name : "unknown");
  if (o.length < 2) return;
  add(f.children, "ip.opt.len", "Length", decimal(o.length), at + 1, 1);
  const auto body = bytes.subspan(o.at, o.length);
  const auto address = [&](const char* key, const char* label, std::uint32_t i) {
    add(f.children, key, label, Address::v4(be32(&body[i])).to_string(), at + i, 4);
  };
  switch (o.type) {
    case kOptionRecordRoute:
    case kOptionLsrr:
    case kOptionSsrr: {
      if (o.length < 3) return;
      const std::uint8_t ptr = body[2];
      add(f.children, "ip.opt.ptr", "Pointer", decimal(ptr), at + 2, 1);
      for (std::uint32_t i = 3; i + 4 <= o.length; i += 4) {
        // Route data before the pointer is recorded (RR) or already visited (source routes).
        const bool rr = o.type == kOptionRecordRoute;
        address(rr ? (i + 1 < ptr ? "ip.rec_rt" : "ip.empty_rt") : "ip.src_rt",
                rr ? "Recorded Route" : "Source Route", i);
      }
      return;
    }
    case kOptionTimestamp: {
      if (o.length < 4) return;
      add(f.children, "ip.opt.ptr", "Pointer", decimal(body[2]), at + 2, 1);
      add(f.children, "ip.opt.overflow", "Overflow", decimal(body[3] >> 4), at + 3, 1);
      const std::uint8_t flag = body[3] & 0x0f;
      add(f.children, "ip.opt.flag", "Flag", hex(flag, 2), at + 3, 1,
          flag == 0 ? "timestamps only" : "addresses and timestamps");
      const std::uint32_t step = flag == 0 ? 4 : 8;
      for (std::uint32_t i = 4; i + step <= o.length; i += step) {
        if (flag != 0) address("ip.opt.time_stamp_addr", "Address", i);
        const std::uint32_t t = flag != 0 ? i + 4 : i;
        add(f.children, "ip.opt.time_stamp", "Time stamp", decimal(be32(&body[t])), at + t, 4);
      }
      return;
    }
    case kOptionRouterAlert:
      if (o.length == 4)
        add(f.children, "ip.opt.ra", "Router Alert", decimal(be16(&body[2])), at + 2, 2,
            be16(&body[2]) == 0 ? "router shall examine packet" : "");
      return;
  }
}

}  // namespace

void describe(const Ipv4Header& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = "IPv4";
  out.layer = dissect::Layer::network;
  out.offset = offset;
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  out.length = h.header_length != 0 ? h.header_length : std::min(captured, 60u);
  out.problem = dissect::to_string(h.problem);
  dissect::CapturedFields field(out, offset, bytes.size());

  field("ip.version", "Version", decimal(h.version), 0, 1);
  field("ip.hdr_len", "Header Length", decimal(h.ihl * 4u), 0, 1,
        decimal(h.ihl) + " words of 32 bits");
  if (auto* ds = field("ip.dsfield", "Differentiated Services Field",
                       hex(static_cast<unsigned>(h.dscp << 2 | h.ecn), 2), 1, 1)) {
    add(ds->children, "ip.dsfield.dscp", "DSCP", decimal(h.dscp), offset + 1, 1);
    add(ds->children, "ip.dsfield.ecn", "ECN", decimal(h.ecn), offset + 1, 1,
        std::string(ecn_name(h.ecn)));
  }
  std::string length_meaning;
  if (h.payload_truncated)
    length_meaning = "payload truncated: " + decimal(captured) + " bytes captured";
  field("ip.len", "Total Length", decimal(h.total_length), 2, 2, std::move(length_meaning));
  field("ip.id", "Identification", hex(h.id, 4), 4, 2, decimal(h.id));
  const unsigned flags =
      (h.reserved_flag ? 4u : 0u) | (h.dont_fragment ? 2u : 0u) | (h.more_fragments ? 1u : 0u);
  if (auto* f = field("ip.flags", "Flags", hex(flags, 2), 6, 1)) {
    add(f->children, "ip.flags.rb", "Reserved bit", h.reserved_flag ? "1" : "0", offset + 6, 1);
    add(f->children, "ip.flags.df", "Don't fragment", h.dont_fragment ? "1" : "0", offset + 6, 1,
        h.dont_fragment ? "don't fragment" : "");
    add(f->children, "ip.flags.mf", "More fragments", h.more_fragments ? "1" : "0", offset + 6, 1,
        h.more_fragments ? "more fragments" : "");
  }
  field("ip.frag_offset", "Fragment Offset", decimal(h.fragment_offset), 6, 2,
        decimal(h.fragment_offset_bytes()) + " bytes");
  field("ip.ttl", "Time to Live", decimal(h.ttl), 8, 1);
  field("ip.proto", "Protocol", decimal(h.protocol), 9, 1, std::string(protocol_name(h.protocol)));
  field("ip.checksum", "Header Checksum", hex(h.checksum, 4), 10, 2);
  if (captured >= 12)
    add(out.fields, "ip.checksum.status", "Header checksum status",
        std::string(to_string(h.checksum_status)), offset + 10, 0);
  field("ip.src", "Source Address", h.source.to_string(), 12, 4);
  field("ip.dst", "Destination Address", h.destination.to_string(), 16, 4);
  for (std::uint8_t i = 0; i < h.option_count; ++i) {
    const Ipv4Option& o = h.options[i];
    const auto* name = option_name(o.type);
    auto& f = add(out.fields, std::string("ip.options.") + (name ? name->key : "unknown"),
                  name ? name->name : "Unknown option",
                  wire::colon_hex(bytes.subspan(o.at, o.length)), offset + o.at, o.length);
    describe_option(o, bytes, offset, f);
  }
}

Address final_destination(const Ipv4Header& h, std::span<const std::uint8_t> bytes) noexcept {
  for (std::uint8_t i = 0; i < h.option_count; ++i) {
    const Ipv4Option& o = h.options[i];
    if (o.type != kOptionLsrr && o.type != kOptionSsrr) continue;
    if (o.length < 7 || std::size_t{o.at} + o.length > bytes.size()) continue;
    // A pointer past the route: every hop was visited, the header holds the destination.
    if (bytes[o.at + 2] > o.length) continue;
    const std::uint32_t last = o.at + 3u + 4u * ((o.length - 3u) / 4u - 1u);
    return Address::v4(be32(&bytes[last]));
  }
  return h.destination;
}

std::string summary(const Ipv4Header& h, std::span<const std::uint8_t> bytes) {
  std::string s = "tos " + hex(static_cast<unsigned>(h.dscp << 2 | h.ecn), 1);
  if (h.ecn != 0) s += "," + std::string(ecn_name(h.ecn));
  s += ", ttl " + decimal(h.ttl) + ", id " + decimal(h.id) + ", offset " +
       decimal(h.fragment_offset_bytes()) + ", flags [";
  // tcpdump's order and words: MF "+", DF, reserved "rsvd".
  std::string flags = std::string(h.more_fragments ? "+" : "") + (h.dont_fragment ? "DF" : "") +
                      (h.reserved_flag ? "rsvd" : "");
  s += (flags.empty() ? "none" : flags) + "], proto ";
  const auto name = protocol_name(h.protocol);
  s += std::string(name.empty() ? "unknown" : name) + " (" + decimal(h.protocol) + ")";
  s += ", length " + decimal(h.total_length);
  if (h.checksum_status == ChecksumStatus::bad)
    s += ", bad cksum " + hex(h.checksum, 1).substr(2) + "!";
  if (h.option_count == 0) return s;
  s += ", options (";
  for (std::uint8_t i = 0; i < h.option_count; ++i) {
    const Ipv4Option& o = h.options[i];
    const auto* n = option_name(o.type);
    if (i != 0) s += ",";
    s += n ? n->tcpdump : "unknown " + decimal(o.type);
    if (o.type == kOptionRecordRoute || o.type == kOptionLsrr || o.type == kOptionSsrr)
      for (std::uint32_t a = 3; a + 4 <= o.length; a += 4)
        s += " " + Address::v4(be32(&bytes[o.at + a])).to_string();
  }
  return s + ")";
}

}  // namespace duplex::inet
