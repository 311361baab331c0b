// Internal to transport/. The TCP options, split from tcp_header.cc along the header's own
// seam: the walk over the option bytes, their fields and tcpdump's "options [...]" text.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "duplex/base/dissect.h"
#include "duplex/transport/tcp_header.h"

namespace duplex::transport::detail {

// Reads the options between byte 20 and the header's end (`header` is the whole header) into
// `h`: each option's kind, length and place, the known ones decoded, and a malformed Problem
// for the first bad length (the walk stops there when the length cannot be trusted).
void decode_tcp_options(std::span<const std::uint8_t> header, TcpHeader& h) noexcept;
// One child of `options` per option, as Wireshark shows them; `bytes` is the segment as
// captured and holds the whole header, or (a header cut by the snap length) what was captured
// of it: then the options captured whole and what was captured of the one that was cut.
void describe_tcp_options(const TcpHeader& h, std::span<const std::uint8_t> bytes,
                          std::uint32_t offset, dissect::Field& options);
// tcpdump's "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7" (without "options [" and "]");
// `sack_base` is subtracted from each SACK edge (tcpdump shows them relative, as the ack).
std::string tcp_options_text(const TcpHeader& h, std::span<const std::uint8_t> bytes,
                             std::uint32_t sack_base);

}  // namespace duplex::transport::detail
