#include "duplex/inet/icmp.h"

#include <array>

#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"
#include "duplex/inet/ipv4_header.h"

namespace duplex::inet {
namespace {

using dissect::decimal;
using dissect::hex;
using dissect::Problem;
using wire::be16;
using wire::be32;

enum : std::uint8_t {
  kEchoReply = 0,
  kUnreachable = 3,
  kSourceQuench = 4,
  kRedirect = 5,
  kEchoRequest = 8,
  kRouterAdvertisement = 9,
  kRouterSolicitation = 10,
  kTimeExceeded = 11,
  kParameterProblem = 12,
  kTimestamp = 13,
  kTimestampReply = 14,
  kInfoRequest = 15,
  kInfoReply = 16,
  kMaskRequest = 17,
  kMaskReply = 18,
};

bool has_id_and_sequence(std::uint8_t type) noexcept {
  return type == kEchoReply || type == kEchoRequest || (type >= kTimestamp && type <= kMaskReply);
}

constexpr std::array<std::string_view, 16> kUnreachableCodes{
    "net unreachable",
    "host unreachable",
    "protocol unreachable",
    "port unreachable",
    "fragmentation needed",
    "source route failed",
    "destination network unknown",
    "destination host unknown",
    "source host isolated",
    "network administratively prohibited",
    "host administratively prohibited",
    "network unreachable for TOS",
    "host unreachable for TOS",
    "communication administratively prohibited",
    "host precedence violation",
    "precedence cutoff in effect"};

// tcpdump's words for each unreachable code, "%" standing for the lost datagram's destination.
constexpr std::array<std::string_view, 16> kUnreachableTcpdump{
    "net % unreachable",
    "host % unreachable",
    "",  // protocol: written out below
    "",  // port: written out below
    "% unreachable - need to frag",
    "% unreachable - source route failed",
    "net % unreachable - unknown",
    "host % unreachable - unknown",
    "% unreachable - source host isolated",
    "net % unreachable - admin prohibited",
    "host % unreachable - admin prohibited",
    "net % unreachable - tos prohibited",
    "host % unreachable - tos prohibited",
    "host % unreachable - admin prohibited filter",
    "host % unreachable - host precedence violation",
    "host % unreachable - precedence cutoff"};

std::string replace_percent(std::string_view format, const std::string& value) {
  std::string s(format);
  if (const auto at = s.find('%'); at != std::string::npos) s.replace(at, 1, value);
  return s;
}

// tcpdump's text of an unreachable message, from the quoted datagram when it was captured.
std::string unreachable_text(const IcmpHeader& h, std::span<const std::uint8_t> bytes) {
  Ipv4Header quoted;
  if (h.quoted_offset != 0) quoted = decode_ipv4(bytes.subspan(h.quoted_offset));
  if (h.quoted_offset == 0 || quoted.header_length == 0)
    return "destination unreachable, code " + decimal(h.code);
  const std::string dst = quoted.destination.to_string();
  const auto after = bytes.subspan(h.quoted_offset + quoted.header_length);
  if (h.code == 3) {
    const bool tcp = quoted.protocol == kProtocolTcp, udp = quoted.protocol == kProtocolUdp;
    if ((tcp || udp) && after.size() >= 4)
      return dst + (tcp ? " tcp" : " udp") + " port " + decimal(be16(&after[2])) + " unreachable";
    return dst + " protocol " + decimal(quoted.protocol) + " port unreachable";
  }
  if (h.code == 2) return dst + " protocol " + decimal(quoted.protocol) + " unreachable";
  if (h.code >= kUnreachableTcpdump.size()) return dst + " unreachable - #" + decimal(h.code);
  std::string s = replace_percent(kUnreachableTcpdump[h.code], dst);
  if (h.code == 4 && h.mtu != 0) s += " (mtu " + decimal(h.mtu) + ")";
  return s;
}

}  // namespace

bool IcmpHeader::is_error() const noexcept {
  return type == kUnreachable || type == kSourceQuench || type == kRedirect ||
         type == kTimeExceeded || type == kParameterProblem;
}

std::string_view icmp_type_name(std::uint8_t type) noexcept {
  switch (type) {
    case kEchoReply:
      return "echo reply";
    case kUnreachable:
      return "destination unreachable";
    case kSourceQuench:
      return "source quench";
    case kRedirect:
      return "redirect";
    case kEchoRequest:
      return "echo request";
    case kRouterAdvertisement:
      return "router advertisement";
    case kRouterSolicitation:
      return "router solicitation";
    case kTimeExceeded:
      return "time exceeded";
    case kParameterProblem:
      return "parameter problem";
    case kTimestamp:
      return "timestamp";
    case kTimestampReply:
      return "timestamp reply";
    case kInfoRequest:
      return "information request";
    case kInfoReply:
      return "information reply";
    case kMaskRequest:
      return "address mask request";
    case kMaskReply:
      return "address mask reply";
  }
  return "";
}

std::string_view icmp_code_name(std::uint8_t type, std::uint8_t code) noexcept {
  switch (type) {
    case kUnreachable:
      return code < kUnreachableCodes.size() ? kUnreachableCodes[code] : "";
    case kRedirect: {
      constexpr std::array<std::string_view, 4> kCodes{"redirect for network", "redirect for host",
                                                       "redirect for TOS and network",
                                                       "redirect for TOS and host"};
      return code < kCodes.size() ? kCodes[code] : "";
    }
    case kTimeExceeded:
      return code == 0   ? "time to live exceeded in transit"
             : code == 1 ? "fragment reassembly time exceeded"
                         : "";
    case kParameterProblem:
      return code == 0   ? "pointer indicates the error"
             : code == 1 ? "missing a required option"
             : code == 2 ? "bad length"
                         : "";
  }
  return "";
}

IcmpHeader decode_icmp(std::span<const std::uint8_t> bytes, std::uint32_t length) noexcept {
  IcmpHeader h;
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  if (length == 0) length = captured;
  if (captured < IcmpHeader::kLength) {
    if (captured >= 1) h.type = bytes[0];
    if (captured >= 2) h.code = bytes[1];
    if (captured >= 4) h.checksum = be16(&bytes[2]);
    h.problem = {Problem::Kind::truncated, "the ICMP header needs 8 bytes", captured};
    return h;
  }
  h.type = bytes[0];
  h.code = bytes[1];
  h.checksum = be16(&bytes[2]);
  if (captured >= length)
    h.checksum_status = checksum_fold(checksum_add(0, bytes.first(length))) == 0
                            ? ChecksumStatus::good
                            : ChecksumStatus::bad;
  const std::uint8_t* rest = &bytes[4];
  if (has_id_and_sequence(h.type)) {
    h.id = be16(rest);
    h.sequence = be16(rest + 2);
  }
  if (h.type == kUnreachable && h.code == 4) h.mtu = be16(rest + 2);
  if (h.type == kParameterProblem) h.pointer = rest[0];
  if (h.type == kRedirect) h.gateway = Address::v4(be32(rest));
  h.header_length = IcmpHeader::kLength;
  if (h.type == kTimestamp || h.type == kTimestampReply) {
    if (captured < 20) {
      h.problem = {Problem::Kind::truncated, "an ICMP timestamp needs 20 bytes", captured};
      return h;
    }
    h.originate = be32(&bytes[8]);
    h.receive = be32(&bytes[12]);
    h.transmit = be32(&bytes[16]);
    h.header_length = 20;
  }
  if (h.type == kMaskRequest || h.type == kMaskReply) {
    if (captured < 12) {
      h.problem = {Problem::Kind::truncated, "an ICMP address mask needs 12 bytes", captured};
      return h;
    }
    h.address_mask = be32(&bytes[8]);
    h.header_length = 12;
  }
  if (h.is_error() && captured > IcmpHeader::kLength) h.quoted_offset = IcmpHeader::kLength;
  return h;
}

void describe(const IcmpHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = "ICMP";
  out.layer = dissect::Layer::network;  // ICMP is IP's own control protocol (OSI 3)
  out.offset = offset;
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  out.length = h.header_length != 0 ? h.header_length : captured;
  out.problem = dissect::to_string(h.problem);
  dissect::CapturedFields field(out, offset, bytes.size());
  field("icmp.type", "Type", decimal(h.type), 0, 1, std::string(icmp_type_name(h.type)));
  field("icmp.code", "Code", decimal(h.code), 1, 1, std::string(icmp_code_name(h.type, h.code)));
  if (field("icmp.checksum", "Checksum", hex(h.checksum, 4), 2, 2))
    field("icmp.checksum.status", "Checksum Status", std::string(to_string(h.checksum_status)), 2,
          0);
  if (h.header_length == 0 && captured < IcmpHeader::kLength) return;
  if (has_id_and_sequence(h.type)) {
    field("icmp.ident", "Identifier", decimal(h.id), 4, 2);
    field("icmp.seq", "Sequence Number", decimal(h.sequence), 6, 2);
  }
  if (h.type == kUnreachable && h.code == 4) {
    field("icmp.unused", "Unused", wire::colon_hex(bytes.subspan(4, 2)), 4, 2);
    field("icmp.mtu", "MTU of next hop", decimal(h.mtu), 6, 2);
  } else if (h.type == kUnreachable || h.type == kTimeExceeded || h.type == kSourceQuench) {
    field("icmp.unused", "Unused", wire::colon_hex(bytes.subspan(4, 4)), 4, 4);
  }
  if (h.type == kParameterProblem) {
    field("icmp.pointer", "Pointer", decimal(h.pointer), 4, 1);
    field("icmp.unused", "Unused", wire::colon_hex(bytes.subspan(5, 3)), 5, 3);
  }
  if (h.type == kRedirect) field("icmp.redir_gw", "Gateway Address", h.gateway.to_string(), 4, 4);
  if (h.header_length == 20) {
    field("icmp.originate_timestamp", "Originate Timestamp", decimal(h.originate), 8, 4);
    field("icmp.receive_timestamp", "Receive Timestamp", decimal(h.receive), 12, 4);
    field("icmp.transmit_timestamp", "Transmit Timestamp", decimal(h.transmit), 16, 4);
  }
  if (h.header_length == 12)
    field("icmp.address_mask", "Address Mask", Address::v4(h.address_mask).to_string(), 8, 4);
}

std::string summary(const IcmpHeader& h, std::span<const std::uint8_t> bytes,
                    std::uint32_t length) {
  const std::string tail = ", length " + decimal(length);
  if (h.header_length == 0) return "ICMP, truncated" + tail;
  const std::string id_seq = "id " + decimal(h.id) + ", seq " + decimal(h.sequence);
  std::string s;
  switch (h.type) {
    case kEchoRequest:
    case kEchoReply:
      s = std::string(icmp_type_name(h.type)) + ", " + id_seq;
      break;
    case kUnreachable:
      s = unreachable_text(h, bytes);
      break;
    case kTimeExceeded:
      s = h.code == 1 ? "ip reassembly time exceeded" : "time exceeded in-transit";
      break;
    case kRedirect: {
      constexpr std::array<std::string_view, 4> kWords{"redirect % to net ", "redirect % to host ",
                                                       "redirect-tos % to net ",
                                                       "redirect-tos % to host "};
      Ipv4Header quoted;
      if (h.quoted_offset != 0) quoted = decode_ipv4(bytes.subspan(h.quoted_offset));
      const std::string lost = quoted.header_length != 0 ? quoted.destination.to_string() : "?";
      s = replace_percent(kWords[h.code & 3], lost) + h.gateway.to_string();
      break;
    }
    case kParameterProblem:
      s = h.code == 0 ? "parameter problem - octet " + decimal(h.pointer)
                      : "parameter problem - code " + decimal(h.code);
      break;
    case kTimestamp:
    case kTimestampReply:
      s = std::string(h.type == kTimestamp ? "time stamp query" : "time stamp reply") + " id " +
          decimal(h.id) + " seq " + decimal(h.sequence);
      break;
    case kMaskReply:
      s = "address mask is " + hex(h.address_mask, 8);
      break;
    default: {
      const auto name = icmp_type_name(h.type);
      s = name.empty() ? "type-#" + decimal(h.type) : std::string(name);
    }
  }
  return s + tail;
}

}  // namespace duplex::inet
