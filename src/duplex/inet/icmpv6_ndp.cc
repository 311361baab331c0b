// The Neighbor Discovery options (RFC 4861 4.6, 8106): their walk and their fields as
// Wireshark shows them.
#include <array>
#include <string>

#include "duplex/base/wire.h"
#include "duplex/inet/internal/icmpv6_ndp.h"
#include "duplex/inet/ipv6_header.h"

namespace duplex::inet::detail {
namespace {

using dissect::add;
using dissect::decimal;
using dissect::hex;
using dissect::Problem;
using wire::be32;

constexpr std::uint8_t kRouteInformation = 24;
constexpr std::uint8_t kDnsSearchList = 31;

std::string option_name(std::uint8_t type) {
  switch (type) {
    case kNdpSourceLinkAddress:
      return "Source link-layer address";
    case kNdpTargetLinkAddress:
      return "Target link-layer address";
    case kNdpPrefixInformation:
      return "Prefix information";
    case kNdpRedirectedHeader:
      return "Redirected header";
    case kNdpMtu:
      return "MTU";
    case kRouteInformation:
      return "Route Information";
    case kNdpRdnss:
      return "Recursive DNS Server";
    case kDnsSearchList:
      return "DNS Search List";
  }
  return "Unknown " + decimal(type);
}

std::string lifetime(std::uint32_t seconds) {
  return seconds == 0xffffffff ? "infinity" : decimal(seconds) + " s";
}

// The fields of a prefix information option (32 bytes at `o`).
void describe_prefix(std::span<const std::uint8_t> body, std::uint32_t at, dissect::Field& f) {
  add(f.children, "icmpv6.opt.prefix.length", "Prefix Length", decimal(body[2]), at + 2, 1);
  const std::uint8_t flags = body[3];
  auto& flag = add(f.children, "icmpv6.opt.prefix.flag", "Flag", hex(flags, 2), at + 3, 1);
  const auto bit = [&](const char* key, const char* label, int mask) {
    add(flag.children, key, label, (flags & mask) != 0 ? "1" : "0", at + 3, 1);
  };
  bit("icmpv6.opt.prefix.flag.l", "On-link flag(L)", 0x80);
  bit("icmpv6.opt.prefix.flag.a", "Autonomous address-configuration flag(A)", 0x40);
  bit("icmpv6.opt.prefix.flag.r", "Router address flag(R)", 0x20);
  add(flag.children, "icmpv6.opt.prefix.flag.reserved", "Reserved", decimal(flags & 0x1f), at + 3,
      1);
  add(f.children, "icmpv6.opt.prefix.valid_lifetime", "Valid Lifetime", decimal(be32(&body[4])),
      at + 4, 4, lifetime(be32(&body[4])));
  add(f.children, "icmpv6.opt.prefix.preferred_lifetime", "Preferred Lifetime",
      decimal(be32(&body[8])), at + 8, 4, lifetime(be32(&body[8])));
  add(f.children, "icmpv6.opt.prefix", "Prefix", ipv6_address_at(&body[16]).to_string(), at + 16,
      16);
}

}  // namespace

const char* ndp_option_problem(const NdpOption& o) noexcept {
  switch (o.type) {
    case kNdpPrefixInformation:
      return o.length != 4 ? "a prefix information option's length is not 4 (32 bytes)" : nullptr;
    case kNdpMtu:
      return o.length != 1 ? "an MTU option's length is not 1 (8 bytes)" : nullptr;
    case kNdpRdnss:
      return o.length < 3 || o.length % 2 == 0
                 ? "an RDNSS option's length is not 1 + 2 per address (RFC 8106)"
                 : nullptr;
  }
  return nullptr;
}

void decode_ndp_options(std::span<const std::uint8_t> bytes, Icmpv6Header& h) noexcept {
  std::uint32_t pos = h.header_length;
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  while (pos < captured && h.option_count < Icmpv6Header::kMaxOptions) {
    if (pos + 1 >= captured) {
      h.problem = pos + 1 >= h.message_length
                      ? Problem{Problem::Kind::malformed,
                                "an NDP option's length byte is past the message", pos}
                      : Problem{Problem::Kind::truncated,
                                "an NDP option's length byte was not captured", captured};
      return;
    }
    NdpOption o{bytes[pos], bytes[pos + 1], pos};
    if (o.length == 0) {
      h.problem = {Problem::Kind::malformed, "an NDP option length is 0", pos + 1};
      return;
    }
    const std::uint32_t end = pos + o.length * 8u;
    if (end > h.message_length) {
      h.problem = {Problem::Kind::malformed, "an NDP option runs past the message", pos + 1};
      return;
    }
    if (end > captured) {
      h.problem = {Problem::Kind::truncated, "an NDP option runs past the captured bytes",
                   captured};
      return;
    }
    h.options[h.option_count++] = o;
    if (const char* what = ndp_option_problem(o); what != nullptr && !h.problem)
      h.problem = {Problem::Kind::malformed, what, pos + 1};  // the walk can go on
    pos = end;
  }
}

void describe_ndp_options(const Icmpv6Header& h, std::span<const std::uint8_t> bytes,
                          std::uint32_t offset, std::vector<dissect::Field>& fields) {
  for (std::uint8_t i = 0; i < h.option_count; ++i) {
    const NdpOption& o = h.options[i];
    const std::uint32_t size = o.length * 8u;
    const auto body = bytes.subspan(o.at, size);
    const std::uint32_t at = offset + o.at;
    const bool sound = ndp_option_problem(o) == nullptr;
    auto& f = add(fields, "icmpv6.opt", "ICMPv6 Option", option_name(o.type), at, size,
                  sound ? "" : "malformed: length " + decimal(o.length));
    add(f.children, "icmpv6.opt.type", "Type", decimal(o.type), at, 1, option_name(o.type));
    add(f.children, "icmpv6.opt.length", "Length", decimal(o.length), at + 1, 1,
        decimal(size) + " bytes");
    if (!sound) continue;
    switch (o.type) {
      case kNdpSourceLinkAddress:
      case kNdpTargetLinkAddress: {
        const std::string address = wire::colon_hex(body.subspan(2));
        f.meaning = address;
        add(f.children, "icmpv6.opt.linkaddr", "Link-layer address", address, at + 2, size - 2);
        add(f.children,
            o.type == kNdpSourceLinkAddress ? "icmpv6.opt.src_linkaddr"
                                            : "icmpv6.opt.target_linkaddr",
            o.type == kNdpSourceLinkAddress ? "Source Link-layer address"
                                            : "Target Link-layer address",
            address, at + 2, size - 2);
        break;
      }
      case kNdpPrefixInformation:
        f.meaning = ipv6_address_at(&body[16]).to_string() + "/" + decimal(body[2]);
        describe_prefix(body, at, f);
        break;
      case kNdpMtu:
        f.meaning = decimal(be32(&body[4]));
        add(f.children, "icmpv6.opt.mtu", "MTU", f.meaning, at + 4, 4);
        break;
      case kNdpRdnss:
        add(f.children, "icmpv6.opt.rdnss.lifetime", "Lifetime", decimal(be32(&body[4])), at + 4, 4,
            lifetime(be32(&body[4])));
        for (std::uint32_t a = 8; a + 16 <= size; a += 16) {
          const std::string server = ipv6_address_at(&body[a]).to_string();
          f.meaning += (f.meaning.empty() ? "" : " ") + server;
          add(f.children, "icmpv6.opt.rdnss", "Recursive DNS Servers", server, at + a, 16);
        }
        break;
      case kNdpRedirectedHeader:
        if (size > 8)
          add(f.children, "icmpv6.opt.redirected_packet", "Redirected Packet",
              decimal(size - 8) + " bytes", at + 8, size - 8, "the start of the redirected packet");
        break;
      default:
        add(f.children, "icmpv6.data", "Data", wire::colon_hex(body.subspan(2)), at + 2, size - 2);
    }
  }
  // Bytes after the options walked: one the capture cut (or the walk stopped at), shown as
  // far as its type and length go.
  std::uint32_t pos = h.header_length;
  if (h.option_count != 0)
    pos = h.options[h.option_count - 1].at + h.options[h.option_count - 1].length * 8u;
  if (!h.is_ndp() || h.header_length == 0 || pos >= bytes.size()) return;
  const auto rest = static_cast<std::uint32_t>(bytes.size()) - pos;
  auto& f = add(fields, "icmpv6.opt", "ICMPv6 Option", option_name(bytes[pos]), offset + pos, rest,
                "cut short");
  add(f.children, "icmpv6.opt.type", "Type", decimal(bytes[pos]), offset + pos, 1,
      option_name(bytes[pos]));
  if (rest >= 2)
    add(f.children, "icmpv6.opt.length", "Length", decimal(bytes[pos + 1]), offset + pos + 1, 1,
        decimal(bytes[pos + 1] * 8u) + " bytes");
}

}  // namespace duplex::inet::detail
