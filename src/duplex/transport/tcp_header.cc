#include "duplex/transport/tcp_header.h"

#include <algorithm>

#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"
#include "duplex/transport/internal/tcp_options.h"

namespace duplex::transport {
namespace {

using dissect::add;
using dissect::decimal;
using dissect::hex;
using dissect::Problem;
using wire::be16;
using wire::be32;

// Each flag from FIN up: Wireshark's key suffix, its name in -V, its letter in
// tcp.flags.str, and tcpdump's letter ('\0': tcpdump 4.99 prints none for AE).
struct FlagName {
  std::uint16_t bit;
  const char* key;
  const char* name;
  const char* label;
  char wireshark;
  char tcpdump;
};
constexpr FlagName kFlags[] = {
    {kTcpFin, "fin", "FIN", "Fin", 'F', 'F'},
    {kTcpSyn, "syn", "SYN", "Syn", 'S', 'S'},
    {kTcpRst, "reset", "RST", "Reset", 'R', 'R'},
    {kTcpPsh, "push", "PSH", "Push", 'P', 'P'},
    {kTcpAck, "ack", "ACK", "Acknowledgment", 'A', '.'},
    {kTcpUrg, "urg", "URG", "Urgent", 'U', 'U'},
    {kTcpEce, "ece", "ECE", "ECN-Echo", 'E', 'E'},
    {kTcpCwr, "cwr", "CWR", "Congestion Window Reduced", 'C', 'W'},
    {kTcpAe, "ae", "AE", "Accurate ECN", 'A', '\0'},
};

// Wireshark's "(SYN, ACK)" without the parentheses, lowest bit first; "Reserved" for the
// three bits before AE.
std::string flag_names(std::uint16_t flags, std::uint8_t reserved) {
  std::string s;
  for (const auto& f : kFlags) {
    if ((flags & f.bit) == 0) continue;
    if (!s.empty()) s += ", ";
    s += f.name;
  }
  if (reserved != 0) s += s.empty() ? "Reserved" : ", Reserved";
  return s.empty() ? "<None>" : s;
}

// Wireshark's tcp.flags.str: twelve places from bit 11 down, a middle dot for each clear bit.
std::string flags_string(std::uint16_t flags, std::uint8_t reserved) {
  constexpr std::string_view kDot = "\u00b7";
  std::string s;
  for (int bit = 2; bit >= 0; --bit) s += (reserved >> bit & 1) != 0 ? "R" : kDot;
  for (int i = 8; i >= 0; --i) {
    const auto& f = kFlags[i];
    if ((flags & f.bit) != 0)
      s += f.wireshark;
    else
      s += kDot;
  }
  return s;
}

}  // namespace

std::string tcp_flags_text(std::uint16_t flags) {
  std::string s;
  for (const auto& f : kFlags)
    if ((flags & f.bit) != 0 && f.tcpdump != '\0') s += f.tcpdump;
  return s.empty() ? "none" : s;
}

TcpHeader decode_tcp(std::span<const std::uint8_t> bytes, std::uint32_t length) noexcept {
  TcpHeader h;
  if (length == 0) length = static_cast<std::uint32_t>(bytes.size());
  if (bytes.size() > length) bytes = bytes.first(length);  // bytes past the segment are not TCP's
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  h.segment_length = length;
  // The fixed part read from a zero-padded copy, so that a truncated header keeps what it had.
  std::array<std::uint8_t, TcpHeader::kMinLength> b{};
  std::copy_n(bytes.begin(), std::min<std::size_t>(bytes.size(), b.size()), b.begin());
  h.source_port = be16(&b[0]);
  h.destination_port = be16(&b[2]);
  h.sequence = be32(&b[4]);
  h.acknowledgment = be32(&b[8]);
  h.data_offset = b[12] >> 4;
  h.reserved = (b[12] >> 1) & 7;
  h.flags = static_cast<std::uint16_t>((b[12] & 1) << 8 | b[13]);
  h.window = be16(&b[14]);
  h.checksum = be16(&b[16]);
  h.urgent_pointer = be16(&b[18]);
  if (captured > 12 && h.data_offset < 5) {
    h.problem = {Problem::Kind::malformed, "the data offset is below 5 (20 bytes)", 12};
    return h;
  }
  if (captured < TcpHeader::kMinLength) {
    h.problem = length < TcpHeader::kMinLength
                    ? Problem{Problem::Kind::malformed,
                              "the segment is shorter than the 20 bytes of a TCP header", captured}
                    : Problem{Problem::Kind::truncated, "the TCP header needs 20 bytes", captured};
    return h;
  }
  const std::uint32_t header_length = h.data_offset * 4u;
  if (header_length > length) {
    h.problem = {Problem::Kind::malformed, "the data offset runs past the end of the segment", 12};
    return h;
  }
  if (captured < header_length) {
    // The options captured whole are kept (tshark shows them); the walk stops at the cut,
    // which is no malformation: the truncation is the problem.
    detail::decode_tcp_options(bytes, h);
    h.problem = {Problem::Kind::truncated,
                 "the TCP header needs data offset * 4 bytes with its options", captured};
    return h;
  }
  h.header_length = header_length;
  h.payload_length = length - header_length;
  h.payload_captured = captured - header_length;
  detail::decode_tcp_options(bytes.first(header_length), h);
  return h;
}

TcpHeader decode_tcp(std::span<const std::uint8_t> bytes, const inet::PseudoHeader& ip) noexcept {
  TcpHeader h = decode_tcp(bytes, ip.length);
  // Checked only when the data offset was sound: a segment that is not TCP has no checksum.
  if (h.header_length != 0) h.checksum_status = inet::check_offloadable(bytes, ip, h.checksum);
  return h;
}

void describe(const TcpHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = "TCP";
  out.layer = dissect::Layer::transport;
  out.offset = offset;
  if (bytes.size() > h.segment_length) bytes = bytes.first(h.segment_length);
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  out.length = h.header_length != 0 ? h.header_length : std::min(captured, 60u);
  out.problem = dissect::to_string(h.problem);
  dissect::CapturedFields field(out, offset, bytes.size());

  field("tcp.srcport", "Source Port", decimal(h.source_port), 0, 2);
  field("tcp.dstport", "Destination Port", decimal(h.destination_port), 2, 2);
  field("tcp.seq_raw", "Sequence Number (raw)", decimal(h.sequence), 4, 4);
  field("tcp.ack_raw", "Acknowledgment Number (raw)", decimal(h.acknowledgment), 8, 4);
  field("tcp.hdr_len", "Header Length", decimal(h.data_offset * 4u), 12, 1,
        decimal(h.data_offset) + " words of 32 bits");
  const auto all = static_cast<std::uint16_t>(h.reserved << 9 | h.flags);
  if (auto* f = field("tcp.flags", "Flags", hex(all, 4), 12, 2, flag_names(h.flags, h.reserved))) {
    add(f->children, "tcp.flags.res", "Reserved", decimal(h.reserved), offset + 12, 1);
    for (int i = 8; i >= 0; --i) {
      const auto& flag = kFlags[i];
      add(f->children, std::string("tcp.flags.") + flag.key, flag.label,
          h.has(static_cast<TcpFlag>(flag.bit)) ? "1" : "0", offset + (i == 8 ? 12 : 13), 1);
    }
    add(f->children, "tcp.flags.str", "TCP Flags", flags_string(h.flags, h.reserved), offset + 12,
        2);
  }
  field("tcp.window_size_value", "Window", decimal(h.window), 14, 2);
  if (field("tcp.checksum", "Checksum", hex(h.checksum, 4), 16, 2))
    field("tcp.checksum.status", "Checksum Status", std::string(to_string(h.checksum_status)), 16,
          0, std::string(inet::meaning(h.checksum_status)));
  field("tcp.urgent_pointer", "Urgent Pointer", decimal(h.urgent_pointer), 18, 2);
  // The options of a whole header, or what was captured of those of a cut one.
  const bool cut = h.header_length == 0 && h.problem.kind == Problem::Kind::truncated;
  const std::uint32_t options_end = h.header_length != 0 ? h.header_length : cut ? captured : 0;
  if (options_end > TcpHeader::kMinLength) {
    const std::uint32_t n = options_end - TcpHeader::kMinLength;
    auto& options = add(out.fields, "tcp.options", "Options",
                        wire::colon_hex(bytes.subspan(TcpHeader::kMinLength, n)),
                        offset + TcpHeader::kMinLength, n, decimal(n) + " bytes");
    detail::describe_tcp_options(h, bytes, offset, options);
  }
  if (h.header_length == 0) return;
  add(out.fields, "tcp.len", "TCP Segment Len", decimal(h.payload_length), offset + h.header_length,
      0);
}

std::string summary(const TcpHeader& h, std::span<const std::uint8_t> bytes) {
  // tcpdump's order of checks: the fixed header, a data offset too short, then too long.
  if (h.problem.kind == Problem::Kind::malformed && h.problem.at == 12 && h.data_offset < 5) {
    const std::uint32_t hlen = h.data_offset * 4u;
    const std::uint32_t rest = h.segment_length > hlen ? h.segment_length - hlen : 0;
    return "tcp " + decimal(rest) + " [bad hdr length " + decimal(hlen) + " - too short, < 20]";
  }
  if (bytes.size() < TcpHeader::kMinLength) return "[|tcp]";
  std::string s = "Flags [" + tcp_flags_text(h.flags) + "]";
  if (h.data_offset * 4u > h.segment_length)
    return s + " [bad hdr length " + decimal(h.data_offset * 4u) + " - too long, > " +
           decimal(h.segment_length) + "]";
  const std::uint32_t length =
      h.header_length != 0 ? h.payload_length : h.segment_length - h.data_offset * 4u;
  if (length > 0 || h.has(kTcpSyn) || h.has(kTcpFin) || h.has(kTcpRst)) {
    s += ", seq " + decimal(h.sequence);
    if (length > 0) s += ":" + decimal(static_cast<std::uint32_t>(h.sequence + length));
  }
  if (h.has(kTcpAck)) s += ", ack " + decimal(h.acknowledgment);
  s += ", win " + decimal(h.window);
  if (h.has(kTcpUrg)) s += ", urg " + decimal(h.urgent_pointer);
  if (h.header_length == 0) return s + " [|tcp]";  // the options were cut
  if (h.header_length > TcpHeader::kMinLength) {
    // tcpdump stops at an option whose length it cannot trust, before the length (and closes
    // the bracket only after another option).
    // A caller that made the numbers relative (h.acknowledgment less a base, as tcpdump does
    // without -S) gets the SACK edges relative to the same base.
    const std::uint32_t sack_base = be32(&bytes[8]) - h.acknowledgment;
    const std::string options = detail::tcp_options_text(h, bytes, sack_base);
    if (options == "[bad opt]") return s + ", options [[bad opt]";
    s += ", options [" + options + "]";
    if (options.ends_with("[bad opt]")) return s;
  }
  return s + ", length " + decimal(length);
}

}  // namespace duplex::transport
