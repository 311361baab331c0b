#include "duplex/inet/ipv6_header.h"

#include <algorithm>

#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"
#include "duplex/inet/ipv4_header.h"

namespace duplex::inet {
namespace {

using dissect::add;
using dissect::decimal;
using dissect::hex;
using dissect::Problem;
using wire::be16;
using wire::be32;

constexpr std::uint8_t kHopByHop = 0;
constexpr std::uint8_t kRouting = 43;
constexpr std::uint8_t kFragment = 44;
constexpr std::uint8_t kAuthentication = 51;
constexpr std::uint8_t kDestinationOptions = 60;
constexpr std::uint8_t kMobility = 135;

bool is_extension(std::uint8_t type) noexcept {
  return type == kHopByHop || type == kRouting || type == kFragment || type == kAuthentication ||
         type == kDestinationOptions || type == kMobility;
}

// Checks the TLV options of a hop-by-hop or destination options header (`body` after its
// first two bytes); returns the offset in `body` of an option that runs past it, or -1.
long bad_option(std::span<const std::uint8_t> body) noexcept {
  std::size_t pos = 0;
  while (pos < body.size()) {
    if (body[pos] == 0) {  // Pad1: a single byte
      ++pos;
      continue;
    }
    if (pos + 2 > body.size() || pos + 2 + body[pos + 1] > body.size())
      return static_cast<long>(pos);
    pos += 2u + body[pos + 1];
  }
  return -1;
}

}  // namespace

Address ipv6_address_at(const std::uint8_t* p) noexcept {
  std::array<std::uint8_t, 16> a{};
  std::copy_n(p, a.size(), a.begin());
  return Address::v6(a);
}

Ipv6Header decode_ipv6(std::span<const std::uint8_t> bytes) noexcept {
  Ipv6Header h;
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  std::array<std::uint8_t, Ipv6Header::kFixedLength> b{};
  std::copy_n(bytes.begin(), std::min<std::size_t>(bytes.size(), b.size()), b.begin());
  h.version = b[0] >> 4;
  h.traffic_class = static_cast<std::uint8_t>((b[0] << 4) | (b[1] >> 4));
  h.flow_label = be32(&b[0]) & 0xfffff;
  h.payload_length = be16(&b[4]);
  h.next_header = b[6];
  h.hop_limit = b[7];
  h.source = ipv6_address_at(&b[8]);
  h.destination = ipv6_address_at(&b[24]);
  if (captured >= 1 && h.version != 6) {
    h.problem = {Problem::Kind::malformed, "the version is not 6", 0};
    return h;
  }
  if (captured < Ipv6Header::kFixedLength) {
    h.problem = {Problem::Kind::truncated, "the IPv6 header needs 40 bytes", captured};
    return h;
  }
  // The chain must end within the payload length (0: a jumbogram or a TSO capture, so the
  // capture's end is the bound).
  const std::uint32_t end =
      h.payload_length == 0 ? captured : Ipv6Header::kFixedLength + h.payload_length;
  std::uint32_t at = Ipv6Header::kFixedLength;
  std::uint8_t type = h.next_header;
  while (is_extension(type) && !(h.has_fragment_header && !h.first_fragment())) {
    if (h.extension_count == Ipv6Header::kMaxExtensions) {
      h.problem = {Problem::Kind::malformed, "more than 8 extension headers", at};
      break;
    }
    if (captured < at + 2) {
      h.problem = {Problem::Kind::truncated, "an extension header needs 2 bytes", captured};
      break;
    }
    std::uint32_t length = 8;  // the fragment header's fixed size
    if (type == kAuthentication)
      length = (bytes[at + 1] + 2u) * 4;
    else if (type != kFragment)
      length = (bytes[at + 1] + 1u) * 8;
    if (at + length > end) {
      h.problem = {Problem::Kind::malformed, "an extension header runs past the payload length",
                   at + 1};
      break;
    }
    if (captured < at + length) {
      h.extensions[h.extension_count++] = {type, bytes[at], at, length, captured - at};
      h.problem = {Problem::Kind::truncated, "an extension header needs its length in bytes",
                   captured};
      break;
    }
    const auto ext = bytes.subspan(at, length);
    if (type == kHopByHop || type == kDestinationOptions) {
      const long bad = bad_option(ext.subspan(2));
      if (bad >= 0) {
        h.problem = {Problem::Kind::malformed, "an option runs past its extension header",
                     at + 2 + static_cast<std::uint32_t>(bad)};
        break;
      }
    }
    if (type == kFragment) {
      h.has_fragment_header = true;
      h.fragment_offset = be16(&ext[2]) >> 3;
      h.more_fragments = (ext[3] & 1) != 0;
      h.fragment_id = be32(&ext[4]);
    }
    h.extensions[h.extension_count++] = {type, ext[0], at, length, length};
    type = ext[0];
    at += length;
  }
  h.final_next_header = type;
  if (h.problem) return h;
  h.header_length = at;
  h.payload_bytes = std::min(end, captured) - at;
  h.payload_truncated = end > captured;
  return h;
}

namespace {

std::string_view extension_key(std::uint8_t type) noexcept {
  switch (type) {
    case kHopByHop:
      return "ipv6.hopopts";
    case kRouting:
      return "ipv6.routing";
    case kFragment:
      return "ipv6.fraghdr";
    case kDestinationOptions:
      return "ipv6.dstopts";
    case kAuthentication:
      return "ah";
  }
  return "ipv6.mobility";
}

std::string_view option_meaning(std::uint8_t type) noexcept {
  switch (type) {
    case 0:
      return "Pad1";
    case 1:
      return "PadN";
    case 5:
      return "Router Alert";
    case 0xc2:
      return "Jumbo Payload";
    case 0xc9:
      return "Home Address";
  }
  return "";
}

// The TLV options of a hop-by-hop or destination options header; decode checked the bounds
// of a whole header. `ext` may be cut (the last header of a short capture): an option then
// shows its type and length if they were captured, its data only if all of it was.
void describe_options(std::span<const std::uint8_t> ext, std::uint32_t at, dissect::Field& f) {
  std::uint32_t pos = 2;
  while (pos < ext.size()) {
    const std::uint8_t type = ext[pos];
    const bool cut = type != 0 && (pos + 2 > ext.size() || pos + 2u + ext[pos + 1] > ext.size());
    const std::uint32_t length = cut         ? static_cast<std::uint32_t>(ext.size()) - pos
                                 : type == 0 ? 1
                                             : 2u + ext[pos + 1];
    auto& o = add(f.children, "ipv6.opt", "IPv6 Option", std::string(option_meaning(type)),
                  at + pos, length);
    add(o.children, "ipv6.opt.type", "Type", hex(type, 2), at + pos, 1,
        std::string(option_meaning(type)));
    if (cut) {
      if (pos + 2 <= ext.size())
        add(o.children, "ipv6.opt.length", "Length", decimal(ext[pos + 1]), at + pos + 1, 1);
      return;
    }
    if (type != 0) {
      add(o.children, "ipv6.opt.length", "Length", decimal(ext[pos + 1]), at + pos + 1, 1);
      const auto data = ext.subspan(pos + 2, length - 2);
      if (type == 1)
        add(o.children, "ipv6.opt.padn", "PadN", wire::colon_hex(data), at + pos + 2, length - 2);
      else if (type == 5 && data.size() == 2)
        add(o.children, "ipv6.opt.router_alert", "Router Alert", decimal(be16(data.data())),
            at + pos + 2, 2);
      else
        add(o.children, "ipv6.opt_unknown_data", "Unknown Data", wire::colon_hex(data),
            at + pos + 2, length - 2);
    }
    pos += length;
  }
}

// Type 0 (deprecated source route) and 2 (mobile home address) list addresses after 4
// reserved bytes; type 4 (SRH, RFC 8754) after last entry, flags and tag. `ext` may be cut:
// only what was captured is shown.
void describe_routing(std::span<const std::uint8_t> ext, std::uint32_t at, dissect::Field& f) {
  if (ext.size() < 4) {
    if (ext.size() == 3) add(f.children, "ipv6.routing.type", "Type", decimal(ext[2]), at + 2, 1);
    return;
  }
  const std::uint8_t type = ext[2];
  add(f.children, "ipv6.routing.type", "Type", decimal(type), at + 2, 1,
      type == 0   ? "source route (deprecated)"
      : type == 2 ? "type 2 (mobile IPv6)"
      : type == 4 ? "segment routing (SRH)"
                  : "");
  add(f.children, "ipv6.routing.segleft", "Segments Left", decimal(ext[3]), at + 3, 1);
  if (ext.size() < 8) return;
  const char* key = nullptr;
  if (type == 0) key = "ipv6.routing.src.addr";
  if (type == 2) key = "ipv6.routing.mipv6.home_address";
  if (type == 4) {
    key = "ipv6.routing.srh.addr";
    add(f.children, "ipv6.routing.srh.last_entry", "Last Entry", decimal(ext[4]), at + 4, 1);
    add(f.children, "ipv6.routing.srh.flags", "Flags", hex(ext[5], 2), at + 5, 1);
    add(f.children, "ipv6.routing.srh.tag", "Tag", decimal(be16(&ext[6])), at + 6, 2);
  }
  if (key == nullptr) return;
  // The addresses that fit (an SRH's TLVs after its last entry are not decoded).
  std::uint32_t count = static_cast<std::uint32_t>((ext.size() - 8) / 16);
  if (type == 4) count = std::min<std::uint32_t>(count, ext[4] + 1u);
  for (std::uint32_t i = 0; i < count; ++i)
    add(f.children, key, "Address", ipv6_address_at(&ext[8 + 16 * i]).to_string(), at + 8 + 16 * i,
        16);
}

}  // namespace

void describe(const Ipv6Header& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = "IPv6";
  out.layer = dissect::Layer::network;
  out.offset = offset;
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  out.length = h.header_length != 0 ? h.header_length : std::min(captured, 40u);
  out.problem = dissect::to_string(h.problem);
  dissect::CapturedFields field(out, offset, bytes.size());

  field("ipv6.version", "Version", decimal(h.version), 0, 1);
  if (auto* tc = field("ipv6.tclass", "Traffic Class", hex(h.traffic_class, 8), 0, 2)) {
    add(tc->children, "ipv6.tclass.dscp", "DSCP", decimal(h.dscp()), offset, 2);
    add(tc->children, "ipv6.tclass.ecn", "ECN", decimal(h.ecn()), offset + 1, 1);
  }
  field("ipv6.flow", "Flow Label", hex(h.flow_label, 6), 1, 3);
  field("ipv6.plen", "Payload Length", decimal(h.payload_length), 4, 2,
        h.payload_truncated ? "payload truncated: " + decimal(captured) + " bytes captured" : "");
  field("ipv6.nxt", "Next Header", decimal(h.next_header), 6, 1,
        std::string(protocol_name(h.next_header)));
  field("ipv6.hlim", "Hop Limit", decimal(h.hop_limit), 7, 1);
  field("ipv6.src", "Source Address", h.source.to_string(), 8, 16);
  field("ipv6.dst", "Destination Address", h.destination.to_string(), 24, 16);
  for (std::uint8_t i = 0; i < h.extension_count; ++i) {
    const Ipv6Extension& e = h.extensions[i];
    const auto ext = bytes.subspan(e.at, e.captured);
    const std::uint32_t at = offset + e.at;
    const std::string key(extension_key(e.type));
    auto& f =
        add(out.fields, key, std::string(protocol_name(e.type)), decimal(e.length), at, e.captured);
    add(f.children, key + ".nxt", "Next Header", decimal(e.next_header), at, 1,
        std::string(protocol_name(e.next_header)));
    if (e.type == kFragment) {
      // Read from the bytes: the header's own fragment fields are set only when it is whole.
      if (ext.size() >= 4) {
        const std::uint16_t fragment_offset = be16(&ext[2]) >> 3;
        add(f.children, "ipv6.fraghdr.offset", "Offset", decimal(fragment_offset), at + 2, 2,
            decimal(fragment_offset * 8u) + " bytes");
        add(f.children, "ipv6.fraghdr.more", "More Fragments", (ext[3] & 1) != 0 ? "1" : "0",
            at + 3, 1);
      }
      if (ext.size() >= 8)
        add(f.children, "ipv6.fraghdr.ident", "Identification", hex(be32(&ext[4]), 8), at + 4, 4);
      continue;
    }
    add(f.children, key + ".len", "Length", decimal(ext[1]), at + 1, 1);
    add(f.children, key + ".len_oct", "Length", decimal(e.length), at + 1, 0);
    if (e.type == kHopByHop || e.type == kDestinationOptions) describe_options(ext, at, f);
    if (e.type == kRouting) describe_routing(ext, at, f);
  }
}

Address final_destination(const Ipv6Header& h, std::span<const std::uint8_t> bytes) noexcept {
  for (std::uint8_t i = 0; i < h.extension_count; ++i) {
    const Ipv6Extension& e = h.extensions[i];
    if (e.type != kRouting || e.captured != e.length || e.length < 24) continue;
    const auto ext = bytes.subspan(e.at, e.length);
    if (ext[3] == 0) continue;  // no segments left: the header holds the final destination
    if (ext[2] == 0) return ipv6_address_at(&ext[8 + 16 * ((e.length - 8) / 16 - 1)]);
    if (ext[2] == 2 || ext[2] == 4) return ipv6_address_at(&ext[8]);
  }
  return h.destination;
}

std::string summary(const Ipv6Header& h) {
  std::string s;
  if (h.traffic_class != 0) s += "class " + hex(h.traffic_class, 1) + ", ";
  if (h.flow_label != 0) s += "flowlabel " + hex(h.flow_label, 1) + ", ";
  const auto name = protocol_name(h.next_header);
  s += "hlim " + decimal(h.hop_limit) + ", next-header " +
       std::string(name.empty() ? "unknown" : name) + " (" + decimal(h.next_header) +
       ") payload length: " + decimal(h.payload_length);
  return s;
}

}  // namespace duplex::inet
