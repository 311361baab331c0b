// Internal to inet/. The Neighbor Discovery options of ICMPv6 (RFC 4861 4.6, 8106), split
// from icmpv6.cc along the message's own seam: their walk and their fields.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "duplex/base/dissect.h"
#include "duplex/inet/icmpv6.h"

namespace duplex::inet::detail {

// Walks the options after the fixed part of an NDP message (`bytes` as captured, the fixed
// part whole): a length of 0 or one past the message is malformed (RFC 4861: the receiver
// drops the message) and ends the walk; a decoded type of the wrong length is malformed too,
// but the walk goes on.
void decode_ndp_options(std::span<const std::uint8_t> bytes, Icmpv6Header& h) noexcept;
// Why a decoded option type has the wrong length, or nullptr.
const char* ndp_option_problem(const NdpOption& o) noexcept;
// One icmpv6.opt field per option, as Wireshark shows them.
void describe_ndp_options(const Icmpv6Header& h, std::span<const std::uint8_t> bytes,
                          std::uint32_t offset, std::vector<dissect::Field>& fields);

}  // namespace duplex::inet::detail
