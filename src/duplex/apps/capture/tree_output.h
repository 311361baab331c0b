// Public. The layer tree of `duplex capture -V` and the marked hex dump of -X, from the
// Headers that describe_packet() gives:
//
//   L2 data link (OSI 2 / TCP-IP link): Ethernet II
//     Destination: 02:00:00:00:00:02
//     Type: 0x0800 (IPv4)
//   L3 network (OSI 3 / TCP-IP internet): IPv4
//     Flags: 0x2 (don't fragment)
//       Don't fragment: 1
//     [truncated at byte 12 of the header: the IPv4 header needs 20 bytes]
//
// -X prints the packet's bytes in rows of at most 16, a row never running across two
// headers, each row named after the header that owns its bytes (the innermost one: a
// quoted datagram inside its ICMP error), and "payload" for bytes no header claims.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "duplex/base/dissect.h"

namespace duplex::capture {

// The -V tree, each line ending in '\n'.
std::string format_tree(const std::vector<dissect::Header>& headers);
// The -X dump, each line ending in '\n':
//   0x0000:  0200 0000 0002 0200 0000 0001 0800       ..............  Ethernet II
std::string format_hex(const std::vector<dissect::Header>& headers,
                       std::span<const std::uint8_t> bytes);

}  // namespace duplex::capture
