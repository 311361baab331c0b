// Public. The UDP header (RFC 768; over IPv6, RFC 8200 8.1) as `duplex capture` reads it,
// strictly and without heap allocation (the convention of base/dissect.h):
//
//   source port(16) destination port(16) length(16) checksum(16) [payload]
//
// The length counts the header and must lie between 8 and the IP payload length (a datagram
// may be followed by padding, never cut). The checksum needs the IP layer's addresses:
// decode with an inet::PseudoHeader to check it. A checksum of 0 over IPv4 means the sender
// computed none; over IPv6 it is not allowed, so it is bad. All functions are safe to call
// from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "duplex/base/dissect.h"
#include "duplex/inet/checksum.h"

namespace duplex::transport {

struct UdpHeader {
  static constexpr std::uint32_t kLength = 8;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint16_t length = 0;  // as on the wire: the header and the payload
  std::uint16_t checksum = 0;
  inet::ChecksumStatus checksum_status = inet::ChecksumStatus::unverified;

  std::uint32_t header_length = 0;      // 8 once the header is whole and its length sound; 0 before
  std::uint32_t ip_payload_length = 0;  // the length the IP layer gave (the most UDP may have)
  // The payload starts at byte 8; its length on the wire (the length field less 8) and the
  // part of it that was captured.
  std::uint32_t payload_length = 0;
  std::uint32_t payload_captured = 0;
  dissect::Problem problem;
};

// `bytes` is the IP payload as captured; `ip_payload_length` its length on the wire, 0
// meaning `bytes` is all of it. The checksum stays unverified.
UdpHeader decode_udp(std::span<const std::uint8_t> bytes,
                     std::uint32_t ip_payload_length = 0) noexcept;
// The same, with the checksum checked over `ip` (its length is the IP payload's on the wire;
// the checksum covers the UDP length's bytes).
UdpHeader decode_udp(std::span<const std::uint8_t> bytes, const inet::PseudoHeader& ip) noexcept;
// "UDP" with udp.srcport, udp.dstport, udp.length, udp.checksum and udp.checksum.status
// ("good", "bad", "unverified", or "none" for a checksum of 0 over IPv4).
void describe(const UdpHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As tcpdump -nn after the ports: "UDP, length 5" (the payload), "UDP, bad length 12 > 5",
// "[|udp]" when the header was cut.
std::string summary(const UdpHeader& h);

}  // namespace duplex::transport
