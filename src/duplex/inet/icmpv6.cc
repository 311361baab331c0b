#include "duplex/inet/icmpv6.h"

#include <algorithm>
#include <array>

#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"
#include "duplex/inet/internal/icmpv6_ndp.h"
#include "duplex/inet/ipv4_header.h"
#include "duplex/inet/ipv6_header.h"

namespace duplex::inet {
namespace {

using dissect::add;
using dissect::decimal;
using dissect::hex;
using dissect::Problem;
using wire::be16;
using wire::be32;

// The fixed part of a known type (what follows is data, a quoted packet or options); 0 for
// an unknown type, whose body is not read.
std::uint32_t fixed_length(std::uint8_t type) noexcept {
  switch (type) {
    case kIcmpv6Unreachable:
    case kIcmpv6PacketTooBig:
    case kIcmpv6TimeExceeded:
    case kIcmpv6ParameterProblem:
    case kIcmpv6EchoRequest:
    case kIcmpv6EchoReply:
    case kIcmpv6RouterSolicitation:
    case kIcmpv6Mld2Report:
      return 8;
    case kIcmpv6RouterAdvertisement:
      return 16;
    case kIcmpv6MldQuery:
    case kIcmpv6MldReport:
    case kIcmpv6MldDone:
    case kIcmpv6NeighborSolicitation:
    case kIcmpv6NeighborAdvertisement:
      return 24;
    case kIcmpv6Redirect:
      return 40;
  }
  return 0;
}

const char* needs_what(std::uint8_t type) noexcept {
  switch (fixed_length(type)) {
    case 8:
      return "this ICMPv6 message needs 8 bytes";
    case 16:
      return "a router advertisement needs 16 bytes";
    case 24:
      return "this ICMPv6 message needs 24 bytes (it carries an address)";
    case 40:
      return "a redirect needs 40 bytes";
  }
  return "the ICMPv6 header needs 4 bytes";
}

// Reads the fixed part of a known type; `b` holds at least fixed_length(h.type) bytes.
void decode_body(const std::uint8_t* b, Icmpv6Header& h) noexcept {
  switch (h.type) {
    case kIcmpv6PacketTooBig:
      h.mtu = be32(b + 4);
      return;
    case kIcmpv6ParameterProblem:
      h.pointer = be32(b + 4);
      return;
    case kIcmpv6EchoRequest:
    case kIcmpv6EchoReply:
      h.id = be16(b + 4);
      h.sequence = be16(b + 6);
      return;
    case kIcmpv6MldQuery:
    case kIcmpv6MldReport:
    case kIcmpv6MldDone:
      h.max_response_delay = be16(b + 4);
      h.multicast_address = ipv6_address_at(b + 8);
      return;
    case kIcmpv6Mld2Report:
      h.mld_records = be16(b + 6);
      return;
    case kIcmpv6RouterAdvertisement:
      h.cur_hop_limit = b[4];
      h.ra_flags = b[5];
      h.router_lifetime = be16(b + 6);
      h.reachable_time = be32(b + 8);
      h.retrans_timer = be32(b + 12);
      return;
    case kIcmpv6NeighborAdvertisement:
      h.router = (b[4] & 0x80) != 0;
      h.solicited = (b[4] & 0x40) != 0;
      h.override_flag = (b[4] & 0x20) != 0;
      h.target = ipv6_address_at(b + 8);
      return;
    case kIcmpv6NeighborSolicitation:
      h.target = ipv6_address_at(b + 8);
      return;
    case kIcmpv6Redirect:
      h.target = ipv6_address_at(b + 8);
      h.destination = ipv6_address_at(b + 24);
      return;
  }
}

}  // namespace

std::string_view icmpv6_type_name(std::uint8_t type) noexcept {
  switch (type) {
    case kIcmpv6Unreachable:
      return "destination unreachable";
    case kIcmpv6PacketTooBig:
      return "packet too big";
    case kIcmpv6TimeExceeded:
      return "time exceeded in-transit";
    case kIcmpv6ParameterProblem:
      return "parameter problem";
    case kIcmpv6EchoRequest:
      return "echo request";
    case kIcmpv6EchoReply:
      return "echo reply";
    case kIcmpv6MldQuery:
      return "multicast listener query";
    case kIcmpv6MldReport:
      return "multicast listener report";
    case kIcmpv6MldDone:
      return "multicast listener done";
    case kIcmpv6RouterSolicitation:
      return "router solicitation";
    case kIcmpv6RouterAdvertisement:
      return "router advertisement";
    case kIcmpv6NeighborSolicitation:
      return "neighbor solicitation";
    case kIcmpv6NeighborAdvertisement:
      return "neighbor advertisement";
    case kIcmpv6Redirect:
      return "redirect";
    case 138:
      return "router renumbering";
    case 139:
      return "node information query";
    case 140:
      return "node information reply";
    case 141:
      return "inverse neighbor solicitation";
    case 142:
      return "inverse neighbor advertisement";
    case kIcmpv6Mld2Report:
      return "multicast listener report v2";
    case 144:
      return "ha discovery request";
    case 145:
      return "ha discovery reply";
    case 146:
      return "mobile router solicitation";
    case 147:
      return "mobile router advertisement";
    case 155:
      return "RPL";
    case 200:
      return "mtrace response";
    case 201:
      return "mtrace message";
  }
  return "";
}

std::string_view icmpv6_code_name(std::uint8_t type, std::uint8_t code) noexcept {
  switch (type) {
    case kIcmpv6Unreachable: {
      constexpr std::array<std::string_view, 8> kCodes{
          "no route to destination",
          "communication with destination administratively prohibited",
          "beyond scope of source address",
          "address unreachable",
          "port unreachable",
          "source address failed ingress/egress policy",
          "reject route to destination",
          "error in source routing header"};
      return code < kCodes.size() ? kCodes[code] : "";
    }
    case kIcmpv6TimeExceeded:
      return code == 0   ? "hop limit exceeded in transit"
             : code == 1 ? "fragment reassembly time exceeded"
                         : "";
    case kIcmpv6ParameterProblem: {
      constexpr std::array<std::string_view, 4> kCodes{
          "erroneous header field encountered", "unrecognized Next Header type encountered",
          "unrecognized IPv6 option encountered",
          "IPv6 first fragment has incomplete IPv6 header chain"};
      return code < kCodes.size() ? kCodes[code] : "";
    }
  }
  return "";
}

Icmpv6Header decode_icmpv6(std::span<const std::uint8_t> bytes, std::uint32_t length) noexcept {
  Icmpv6Header h;
  if (length == 0) length = static_cast<std::uint32_t>(bytes.size());
  if (bytes.size() > length) bytes = bytes.first(length);
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  h.message_length = length;
  // The fixed part read from a zero-padded copy, so that a truncated message keeps what it had.
  std::array<std::uint8_t, 40> b{};
  std::copy_n(bytes.begin(), std::min<std::size_t>(bytes.size(), b.size()), b.begin());
  h.type = b[0];
  h.code = b[1];
  h.checksum = be16(&b[2]);
  const std::uint32_t fixed = std::max(fixed_length(h.type), Icmpv6Header::kMinLength);
  // The body's fields are read from the zero-padded copy even when it was cut: describe()
  // shows only those whose bytes were captured (tshark shows them too).
  decode_body(b.data(), h);
  if (captured < fixed) {
    const bool short_message = length < fixed;
    h.problem = {short_message ? Problem::Kind::malformed : Problem::Kind::truncated,
                 needs_what(captured < Icmpv6Header::kMinLength ? 0 : h.type), captured};
    return h;
  }
  h.header_length = fixed;
  if (h.is_error() && captured > 8) h.quoted_offset = 8;
  if (h.is_ndp()) detail::decode_ndp_options(bytes, h);
  return h;
}

Icmpv6Header decode_icmpv6(std::span<const std::uint8_t> bytes, const PseudoHeader& ip) noexcept {
  Icmpv6Header h = decode_icmpv6(bytes, ip.length);
  PseudoHeader icmpv6 = ip;
  icmpv6.protocol = kProtocolIcmpv6;
  if (bytes.size() >= Icmpv6Header::kMinLength) h.checksum_status = check_segment(bytes, icmpv6);
  return h;
}

namespace {

std::string_view preference_name(std::uint8_t prf) noexcept {
  constexpr std::array<std::string_view, 4> kNames{"Medium", "High", "Reserved", "Low"};
  return kNames[prf & 3];
}

// The flags of a router advertisement (byte 5) as Wireshark shows them.
void describe_ra_flags(const Icmpv6Header& h, std::uint32_t at, dissect::Field& f) {
  const auto bit = [&](const char* key, const char* label, int mask) {
    add(f.children, key, label, (h.ra_flags & mask) != 0 ? "1" : "0", at, 1);
  };
  bit("icmpv6.nd.ra.flag.m", "Managed address configuration", 0x80);
  bit("icmpv6.nd.ra.flag.o", "Other configuration", 0x40);
  bit("icmpv6.nd.ra.flag.h", "Home Agent", 0x20);
  add(f.children, "icmpv6.nd.ra.flag.prf", "Prf (Default Router Preference)",
      decimal(h.preference()), at, 1, std::string(preference_name(h.preference())));
  bit("icmpv6.nd.ra.flag.p", "Proxy", 0x04);
  add(f.children, "icmpv6.nd.ra.flag.rsv", "Reserved", decimal(h.ra_flags & 3), at, 1);
}

}  // namespace

void describe(const Icmpv6Header& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = "ICMPv6";
  out.layer = dissect::Layer::network;  // IPv6's own control protocol (OSI 3)
  out.offset = offset;
  if (bytes.size() > h.message_length) bytes = bytes.first(h.message_length);
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  out.length = h.header_length != 0 ? h.header_length : std::min(captured, 40u);
  if (h.option_count != 0) {
    const NdpOption& last = h.options[h.option_count - 1];
    out.length = last.at + last.length * 8u;
  }
  out.problem = dissect::to_string(h.problem);
  dissect::CapturedFields field(out, offset, bytes.size());
  field("icmpv6.type", "Type", decimal(h.type), 0, 1, std::string(icmpv6_type_name(h.type)));
  field("icmpv6.code", "Code", decimal(h.code), 1, 1,
        std::string(icmpv6_code_name(h.type, h.code)));
  if (field("icmpv6.checksum", "Checksum", hex(h.checksum, 4), 2, 2))
    field("icmpv6.checksum.status", "Checksum Status", std::string(to_string(h.checksum_status)), 2,
          0);
  // A body cut by the capture shows the fields whose bytes are there (decode read them).
  const auto reserved = [&](std::uint32_t at, std::uint32_t n) {
    if (at + n <= captured)
      field("icmpv6.reserved", "Reserved", wire::colon_hex(bytes.subspan(at, n)), at, n);
  };
  const auto address = [&](const char* key, const char* label, const Address& a, std::uint32_t at) {
    field(key, label, a.to_string(), at, 16);
  };
  switch (h.type) {
    case kIcmpv6Unreachable:
    case kIcmpv6TimeExceeded:
    case kIcmpv6RouterSolicitation:
      reserved(4, 4);
      break;
    case kIcmpv6PacketTooBig:
      field("icmpv6.mtu", "MTU", decimal(h.mtu), 4, 4);
      break;
    case kIcmpv6ParameterProblem:
      field("icmpv6.pointer", "Pointer", decimal(h.pointer), 4, 4);
      break;
    case kIcmpv6EchoRequest:
    case kIcmpv6EchoReply:
      field("icmpv6.echo.identifier", "Identifier", hex(h.id, 4), 4, 2, decimal(h.id));
      field("icmpv6.echo.sequence_number", "Sequence", decimal(h.sequence), 6, 2);
      break;
    case kIcmpv6MldQuery:
    case kIcmpv6MldReport:
    case kIcmpv6MldDone:
      field("icmpv6.mld.maximum_response_delay", "Maximum Response Delay [ms]",
            decimal(h.max_response_delay), 4, 2);
      reserved(6, 2);
      address("icmpv6.mld.multicast_address", "Multicast Address", h.multicast_address, 8);
      break;
    case kIcmpv6Mld2Report:
      reserved(4, 2);
      field("icmpv6.mldr.nb_mcast_records", "Number of Multicast Address Records",
            decimal(h.mld_records), 6, 2);
      break;
    case kIcmpv6RouterAdvertisement:
      field("icmpv6.nd.ra.cur_hop_limit", "Cur hop limit", decimal(h.cur_hop_limit), 4, 1);
      if (auto* f = field("icmpv6.nd.ra.flag", "Flags", hex(h.ra_flags, 2), 5, 1))
        describe_ra_flags(h, offset + 5, *f);
      field("icmpv6.nd.ra.router_lifetime", "Router lifetime (s)", decimal(h.router_lifetime), 6,
            2);
      field("icmpv6.nd.ra.reachable_time", "Reachable time (ms)", decimal(h.reachable_time), 8, 4);
      field("icmpv6.nd.ra.retrans_timer", "Retrans timer (ms)", decimal(h.retrans_timer), 12, 4);
      break;
    case kIcmpv6NeighborSolicitation:
      reserved(4, 4);
      address("icmpv6.nd.ns.target_address", "Target Address", h.target, 8);
      break;
    case kIcmpv6NeighborAdvertisement:
      if (auto* f = captured < 8
                        ? nullptr
                        : field("icmpv6.nd.na.flag", "Flags", hex(be32(&bytes[4]), 8), 4, 4)) {
        add(f->children, "icmpv6.nd.na.flag.r", "Router", h.router ? "1" : "0", offset + 4, 1);
        add(f->children, "icmpv6.nd.na.flag.s", "Solicited", h.solicited ? "1" : "0", offset + 4,
            1);
        add(f->children, "icmpv6.nd.na.flag.o", "Override", h.override_flag ? "1" : "0", offset + 4,
            1);
        add(f->children, "icmpv6.nd.na.flag.rsv", "Reserved", decimal(be32(&bytes[4]) & 0x1fffffff),
            offset + 4, 4);
      }
      address("icmpv6.nd.na.target_address", "Target Address", h.target, 8);
      break;
    case kIcmpv6Redirect:
      reserved(4, 4);
      address("icmpv6.nd.rd.target_address", "Target Address", h.target, 8);
      address("icmpv6.rd.na.destination_address", "Destination Address", h.destination, 24);
      break;
  }
  detail::describe_ndp_options(h, bytes, offset, out.fields);
}

namespace {

// The quoted packet's source and destination, when its IPv6 header was captured.
bool quoted_addresses(const Icmpv6Header& h, std::span<const std::uint8_t> bytes, Address& source,
                      Address& destination) noexcept {
  if (h.quoted_offset == 0 || bytes.size() < h.quoted_offset + Ipv6Header::kFixedLength)
    return false;
  source = ipv6_address_at(&bytes[h.quoted_offset + 8]);
  destination = ipv6_address_at(&bytes[h.quoted_offset + 24]);
  return true;
}

// tcpdump's text of a destination unreachable after the type's name; "" when it has no
// length after it (an unknown code, whose bytes tcpdump dumps instead).
std::string unreachable_text(const Icmpv6Header& h, std::span<const std::uint8_t> bytes,
                             bool& cut) {
  constexpr std::array<std::string_view, 5> kWords{
      "unreachable route", " unreachable prohibited", "beyond scope", "unreachable address",
      "unreachable port"};  // tcpdump's, its extra space included
  if (h.code >= kWords.size()) return ", unknown unreach code (" + decimal(h.code) + ")";
  std::string s = ", " + std::string(kWords[h.code]);
  Address source, destination;
  if (!quoted_addresses(h, bytes, source, destination)) {
    cut = true;
    return s;
  }
  if (h.code == 2)
    return s + " " + destination.to_string() + ", source address " + source.to_string();
  if (h.code != 4) return s + " " + destination.to_string();
  const auto quoted = decode_ipv6(bytes.subspan(h.quoted_offset));
  const std::uint32_t after = h.quoted_offset + quoted.header_length;
  if (quoted.header_length == 0 || bytes.size() < after + 4) {
    cut = true;
    return s;
  }
  const std::string port = decimal(be16(&bytes[after + 2]));
  const std::uint8_t protocol = quoted.final_next_header;
  if (protocol == kProtocolTcp || protocol == kProtocolUdp)
    return s + ", " + destination.to_string() + (protocol == kProtocolTcp ? " tcp" : " udp") +
           " port " + port;
  return s + ", " + destination.to_string() + " protocol " + decimal(protocol) + " port " + port +
         " unreachable";
}

}  // namespace

std::string summary(const Icmpv6Header& h, std::span<const std::uint8_t> bytes) {
  if (h.header_length == 0) return "ICMP6, [|icmp6]";
  const auto name = icmpv6_type_name(h.type);
  std::string s = "ICMP6, " + (name.empty() ? "unknown icmp6 type (" + decimal(h.type) + ")"
                                            : std::string(name));
  bool cut = false;
  switch (h.type) {
    case kIcmpv6Unreachable:
      s += unreachable_text(h, bytes, cut);
      if (h.code > 4) return s;
      break;
    case kIcmpv6PacketTooBig:
      s += ", mtu " + decimal(h.mtu);
      break;
    case kIcmpv6TimeExceeded: {
      Address source, destination;
      if (h.code == 1)
        s += " (reassembly)";
      else if (h.code != 0)
        s += ", unknown code (" + decimal(h.code) + ")";
      else if (quoted_addresses(h, bytes, source, destination))
        s += " for " + destination.to_string();
      else
        cut = true;
      break;
    }
    case kIcmpv6ParameterProblem: {
      constexpr std::array<std::string_view, 4> kWords{"erroneous", "next header", "option",
                                                       "incomplete header chain"};
      s += h.code < kWords.size()
               ? ", " + std::string(kWords[h.code]) + " - octet " + decimal(h.pointer)
               : ", code-#" + decimal(h.code);
      break;
    }
    case kIcmpv6EchoRequest:
    case kIcmpv6EchoReply:
      s += ", id " + decimal(h.id) + ", seq " + decimal(h.sequence);
      break;
    case kIcmpv6MldQuery:
    case kIcmpv6MldReport:
    case kIcmpv6MldDone:
      // tcpdump's MLDv1 text, without a space after the type's name.
      s += "max resp delay: " + decimal(h.max_response_delay) +
           " addr: " + h.multicast_address.to_string();
      break;
    case kIcmpv6Mld2Report:
      s += ", " + decimal(h.mld_records) + " group record(s)";
      break;
    case kIcmpv6NeighborSolicitation:
      s += ", who has " + h.target.to_string();
      break;
    case kIcmpv6NeighborAdvertisement:
      s += ", tgt is " + h.target.to_string();
      break;
    case kIcmpv6Redirect:
      s += ", " + h.destination.to_string() + " to " + h.target.to_string();
      break;
  }
  if (cut) return s + "[|icmp6]";
  return s + ", length " + decimal(h.message_length);
}

}  // namespace duplex::inet
