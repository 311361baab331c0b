// Public. The default output of `duplex capture`: one line per packet, as `tcpdump -nn` prints
// it (the time, the link prefix of `-i any`, the addresses and ports, then the top protocol's
// summary from its codec). A header that stopped the walk is marked in brackets:
//   07:24:57.747586 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 64
//   07:24:57.762648 IP [malformed at byte 0 of the header: IHL is below 5 (20 bytes)]
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "duplex/apps/capture/chain.h"

namespace duplex::capture {

// When a packet was captured: seconds and microseconds since the Unix epoch.
struct Timestamp {
  std::int64_t seconds = 0;
  std::uint32_t microseconds = 0;
};

// Formats packet lines. Keeps small caches (the local time of the last second, interface
// names), so one formatter serves one thread.
class LineFormatter {
 public:
  // Appends "HH:MM:SS.uuuuuu" in local time (TZ), as tcpdump prints it.
  void append_time(std::string& out, Timestamp time);
  // Appends the line after the time, without the newline.
  void append_summary(std::string& out, const DecodedPacket& packet,
                      std::span<const std::uint8_t> bytes);
  // The whole line with its newline.
  std::string line(Timestamp time, const DecodedPacket& packet,
                   std::span<const std::uint8_t> bytes);

 private:
  void append_interface(std::string& out, std::uint32_t index);

  std::int64_t cached_second_ = -1;
  char cached_clock_[9] = {};  // "HH:MM:SS"
  std::uint32_t cached_index_ = 0;
  std::string cached_name_;
};

}  // namespace duplex::capture
