// Public. ICMPv6 (RFC 4443) with Neighbor Discovery (RFC 4861, 4191, 8106) and MLD (RFC 2710,
// 3810) as `duplex capture` reads it, strictly and without heap allocation (the convention
// of base/dissect.h):
//
//   type(8) code(8) checksum(16) then by type:
//   errors (1-4): unused / MTU / pointer (32), then as much of the offending packet as fits
//   echo (128, 129): identifier(16) sequence(16) [data]
//   MLD (130-132): maximum response delay(16) reserved(16) multicast address(128)
//   MLDv2 report (143): reserved(16) number of records(16) [records]
//   router solicitation (133): reserved(32) [options]
//   router advertisement (134): hop limit(8) M O H prf(2) P(8) lifetime(16) reachable(32)
//     retrans timer(32) [options]
//   neighbour solicitation (135), advertisement (136, R S O flags): (32) target(128) [options]
//   redirect (137): reserved(32) target(128) destination(128) [options]
//   NDP options: type(8) length(8, in units of 8 bytes) data
//
// The checksum covers an IPv6 pseudo-header: decode with the IP layer's addresses to check it.
// An error message exposes where its quoted IPv6 header starts, as inet/icmp.h does, so that
// the chain can decode it (decode_ipv6). All functions are safe to call from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "duplex/base/dissect.h"
#include "duplex/inet/address.h"
#include "duplex/inet/checksum.h"

namespace duplex::inet {

// The message types the codec decodes.
inline constexpr std::uint8_t kIcmpv6Unreachable = 1;
inline constexpr std::uint8_t kIcmpv6PacketTooBig = 2;
inline constexpr std::uint8_t kIcmpv6TimeExceeded = 3;
inline constexpr std::uint8_t kIcmpv6ParameterProblem = 4;
inline constexpr std::uint8_t kIcmpv6EchoRequest = 128;
inline constexpr std::uint8_t kIcmpv6EchoReply = 129;
inline constexpr std::uint8_t kIcmpv6MldQuery = 130;
inline constexpr std::uint8_t kIcmpv6MldReport = 131;
inline constexpr std::uint8_t kIcmpv6MldDone = 132;
inline constexpr std::uint8_t kIcmpv6RouterSolicitation = 133;
inline constexpr std::uint8_t kIcmpv6RouterAdvertisement = 134;
inline constexpr std::uint8_t kIcmpv6NeighborSolicitation = 135;
inline constexpr std::uint8_t kIcmpv6NeighborAdvertisement = 136;
inline constexpr std::uint8_t kIcmpv6Redirect = 137;
inline constexpr std::uint8_t kIcmpv6Mld2Report = 143;

// The NDP option types the codec decodes.
inline constexpr std::uint8_t kNdpSourceLinkAddress = 1;
inline constexpr std::uint8_t kNdpTargetLinkAddress = 2;
inline constexpr std::uint8_t kNdpPrefixInformation = 3;
inline constexpr std::uint8_t kNdpRedirectedHeader = 4;
inline constexpr std::uint8_t kNdpMtu = 5;
inline constexpr std::uint8_t kNdpRdnss = 25;

// One NDP option: its type, its length in units of 8 bytes, and where it starts in the
// message. Its data is read from the message's bytes when needed (describe, summary).
struct NdpOption {
  std::uint8_t type = 0;
  std::uint8_t length = 0;
  std::uint32_t at = 0;
};

struct Icmpv6Header {
  static constexpr std::uint32_t kMinLength = 4;
  static constexpr std::size_t kMaxOptions = 32;  // a longer list is not walked further
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint16_t checksum = 0;
  ChecksumStatus checksum_status = ChecksumStatus::unverified;
  std::uint16_t id = 0;                  // echo
  std::uint16_t sequence = 0;            // echo
  std::uint32_t mtu = 0;                 // packet too big
  std::uint32_t pointer = 0;             // parameter problem
  std::uint16_t max_response_delay = 0;  // MLD, in milliseconds
  Address multicast_address;             // MLD
  std::uint16_t mld_records = 0;         // MLDv2 report
  Address target;                        // neighbour solicitation and advertisement, redirect
  Address destination;                   // redirect
  bool router = false, solicited = false, override_flag = false;  // neighbour advertisement
  // Router advertisement.
  std::uint8_t cur_hop_limit = 0;
  std::uint8_t ra_flags = 0;  // M O H prf(2) P reserved(2), as on the wire
  bool managed() const noexcept { return (ra_flags & 0x80) != 0; }
  bool other_config() const noexcept { return (ra_flags & 0x40) != 0; }
  std::uint8_t preference() const noexcept { return (ra_flags >> 3) & 3; }  // RFC 4191
  std::uint16_t router_lifetime = 0;                                        // seconds
  std::uint32_t reachable_time = 0;                                         // milliseconds
  std::uint32_t retrans_timer = 0;                                          // milliseconds
  std::array<NdpOption, kMaxOptions> options{};
  std::uint8_t option_count = 0;

  std::uint32_t header_length = 0;   // the type's fixed part, before data or options; 0 before
  std::uint32_t message_length = 0;  // on the wire
  // Where the quoted IPv6 header of an error message starts (8); 0 for other messages or
  // when none was captured.
  std::uint32_t quoted_offset = 0;
  dissect::Problem problem;

  // Destination unreachable, packet too big, time exceeded, parameter problem (types 0-127).
  bool is_error() const noexcept { return type < 128; }
  // Router and neighbour solicitation and advertisement, redirect: the messages with options.
  bool is_ndp() const noexcept { return type >= 133 && type <= 137; }
};

// `bytes` is the message as captured; `length` its length on the wire (the IPv6 payload after
// the extension headers), 0 meaning `bytes` is the whole message. The checksum stays unverified.
Icmpv6Header decode_icmpv6(std::span<const std::uint8_t> bytes, std::uint32_t length = 0) noexcept;
// The same, with the checksum checked over the IPv6 pseudo-header of `ip` (its addresses and
// the message's length on the wire; the protocol is 58).
Icmpv6Header decode_icmpv6(std::span<const std::uint8_t> bytes, const PseudoHeader& ip) noexcept;
// "ICMPv6" with icmpv6.type, icmpv6.code, icmpv6.checksum, icmpv6.checksum.status and by type
// icmpv6.reserved, icmpv6.mtu, icmpv6.pointer, icmpv6.echo.identifier,
// icmpv6.echo.sequence_number, icmpv6.mld.*, icmpv6.mldr.nb_mcast_records, icmpv6.nd.ra.*,
// icmpv6.nd.ns.target_address, icmpv6.nd.na.flag (.r, .s, .o), icmpv6.nd.na.target_address,
// icmpv6.nd.rd.target_address, icmpv6.rd.na.destination_address, and one icmpv6.opt per NDP
// option (icmpv6.opt.type, .length, .linkaddr, .src_linkaddr, .target_linkaddr, .prefix.*,
// .mtu, .rdnss.lifetime, .rdnss).
void describe(const Icmpv6Header& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As tcpdump -nn: "ICMP6, echo request, id 1, seq 2, length 16", "ICMP6, neighbor
// solicitation, who has fe80::2, length 32", "ICMP6, destination unreachable, unreachable
// port, 2001:db8::1 udp port 9, length 58"; `bytes` as given to decode_icmpv6.
std::string summary(const Icmpv6Header& h, std::span<const std::uint8_t> bytes);
// tcpdump's name of a type: "echo request", "neighbor solicitation"...; "" when unknown.
std::string_view icmpv6_type_name(std::uint8_t type) noexcept;
// RFC 4443's name of a code: "port unreachable", "hop limit exceeded in transit"...; "" when
// the type has no such code.
std::string_view icmpv6_code_name(std::uint8_t type, std::uint8_t code) noexcept;

}  // namespace duplex::inet
