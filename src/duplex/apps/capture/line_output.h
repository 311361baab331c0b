// Public. The default output of `duplex capture`: one line per packet, as `tcpdump -nn` prints
// it (the time, the link prefix of `-i any`, the addresses and ports, then the top protocol's
// summary from its codec). A header that stopped the walk is marked in brackets:
//   07:24:57.747586 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 64
//   07:24:57.762648 IP [malformed at byte 0 of the header: IHL is below 5 (20 bytes)]
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "duplex/apps/capture/chain.h"
#include "duplex/apps/capture/conversation.h"

namespace duplex::capture {

// When a packet was captured: seconds and microseconds since the Unix epoch.
struct Timestamp {
  std::int64_t seconds = 0;
  std::uint32_t microseconds = 0;
};

// TCP sequence numbers as tcpdump -nn shows them (without -S): relative to the first
// segment with ACK seen in each conversation, which is shown as it is.
class TcpSequences {
 public:
  void make_relative(transport::TcpHeader& tcp, const Directed& direction);

 private:
  static constexpr std::size_t kMaxConversations = 1 << 20;
  struct Base {
    std::uint32_t first = 0;   // of the conversation's first endpoint
    std::uint32_t second = 0;  // of its second
  };
  std::map<ConversationKey, Base> bases_;
};

// Formats packet lines. Keeps small caches (the local time of the last second, interface
// names, TCP sequence bases), so one formatter serves one thread, and one stream of packets
// in their order.
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
  void append_ip(std::string& out, const DecodedPacket& packet,
                 std::span<const std::uint8_t> bytes);
  void append_transport(std::string& out, const DecodedPacket& packet,
                        std::span<const std::uint8_t> bytes);

  TcpSequences sequences_;
  std::int64_t cached_second_ = -1;
  char cached_clock_[9] = {};  // "HH:MM:SS"
  std::uint32_t cached_index_ = 0;
  std::string cached_name_;
};

}  // namespace duplex::capture
