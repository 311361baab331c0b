// Public. Which ports `duplex scan` probes: nmap's -p syntax, and the most common ports.
//
// A port list is comma-separated ports and ranges: "22,80,443", "1-1024", "8000-" (to
// 65535), "-100" (from 1), "-" (all of 1-65535, as nmap's -p-). Port 0 is refused (no
// service listens there: connect() to it fails locally) as is anything above 65535; each
// error is one line naming the word and the fix (duplex::ParseError).
//
// Pure computation on values: safe to call from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace duplex::scan {

enum class Protocol { tcp, udp };

// The ports of a list, in the order written, without duplicates.
std::vector<std::uint16_t> parse_ports(std::string_view text);

// The `n` most common ports of `protocol`, most frequent first (nmap-services' open
// frequencies, as nmap's --top-ports orders them); n is at most top_ports_available().
std::vector<std::uint16_t> top_ports(Protocol protocol, std::size_t n);
std::size_t top_ports_available(Protocol protocol) noexcept;

// The built-in tables (top_ports.cc).
std::span<const std::uint16_t> top_tcp_ports() noexcept;
std::span<const std::uint16_t> top_udp_ports() noexcept;

}  // namespace duplex::scan
