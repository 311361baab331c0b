// Public. The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
// complement sum, as IPv4, ICMP, ICMPv6, TCP and UDP use it. TCP, UDP and ICMPv6 also sum a
// pseudo-header of the IP addresses, the protocol and the length (RFC 793, 768, 8200 8.1).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "duplex/inet/address.h"

namespace duplex::inet {

// Adds `bytes` to a running 32-bit sum (an odd final byte is padded with zero).
std::uint32_t checksum_add(std::uint32_t sum, std::span<const std::uint8_t> bytes) noexcept;
// Folds the carries and complements: the value to put in a checksum field. Over bytes that
// already hold a correct checksum, the result is 0.
std::uint16_t checksum_fold(std::uint32_t sum) noexcept;
// The pseudo-header's sum for IPv4 (12 bytes) or IPv6 (40 bytes), by the addresses' family.
std::uint32_t pseudo_header_sum(const Address& source, const Address& destination,
                                std::uint8_t protocol, std::uint32_t length) noexcept;

// What a packet codec found of a checksum: unverified when the bytes it covers were not all
// captured (a short snaplen); none when the sender sent none (a UDP checksum of 0 over IPv4,
// RFC 768); partial when the sender left it to the NIC (checksum offload, CHECKSUM_PARTIAL:
// the field holds only the pseudo-header's sum, the NIC adds the rest on the way out), as
// every TCP and UDP packet that a host sends looks when captured on lo, a veth or the
// sending host's own NIC. tshark (with checking on) calls those bad, tcpdump -vv
// "incorrect"; they are not wrong, only not yet computed, so they are not "bad" here.
enum class ChecksumStatus : std::uint8_t { unverified, good, bad, none, partial };
// "good", "bad", "unverified", "none", "unverified (partial, offloaded)": the value of a
// "<proto>.checksum.status" field.
std::string_view to_string(ChecksumStatus status) noexcept;
// What a partial status means, for -V ("" for the others, whose word says it all).
std::string_view meaning(ChecksumStatus status) noexcept;

// The IP layer's part of a TCP, UDP or ICMPv6 checksum: the decoded addresses, the protocol
// (the final next header for IPv6) and the segment's length on the wire.
struct PseudoHeader {
  Address source;
  Address destination;
  std::uint8_t protocol = 0;
  std::uint32_t length = 0;
};
// Checks the checksum of a segment whose captured bytes are `bytes`: good or bad over its
// `ip.length` bytes and the pseudo-header, unverified when fewer bytes were captured.
ChecksumStatus check_segment(std::span<const std::uint8_t> bytes, const PseudoHeader& ip) noexcept;
// The same for TCP and UDP, whose checksum a sender may leave to the NIC: a checksum that
// does not check but whose field (`stored`) holds exactly the pseudo-header's sum is partial.
ChecksumStatus check_offloadable(std::span<const std::uint8_t> bytes, const PseudoHeader& ip,
                                 std::uint16_t stored) noexcept;

}  // namespace duplex::inet
