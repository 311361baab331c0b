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
// captured (a short snaplen), or when the sender left it to the NIC.
enum class ChecksumStatus : std::uint8_t { unverified, good, bad };
// "good", "bad", "unverified": the value of a "<proto>.checksum.status" field.
std::string_view to_string(ChecksumStatus status) noexcept;

}  // namespace duplex::inet
