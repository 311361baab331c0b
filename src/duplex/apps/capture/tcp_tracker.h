// Public. TCP conversations followed across packets, for --stats and --flow: each
// direction's initial sequence number, the next sequence number expected (so that a segment
// whose data was already seen is a retransmission), its packets and payload bytes, FIN and
// RST; and the handshake's times, whose SYN-to-ACK span is the handshake RTT (Wireshark's
// tcp.analysis.initial_rtt).
//
// Bounded: past kMaxConversations, new conversations are counted but not followed.
// Used from one thread, over the packets in their order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "duplex/apps/capture/chain.h"
#include "duplex/apps/capture/conversation.h"
#include "duplex/apps/capture/line_output.h"

namespace duplex::capture {

struct TcpDirection {
  bool has_base = false;
  std::uint32_t base = 0;  // the ISN (from the SYN), else the first sequence number seen
  bool has_next = false;
  std::uint32_t next = 0;  // one past the highest sequence number seen
  std::uint64_t packets = 0;
  std::uint64_t payload_bytes = 0;
  std::uint64_t retransmissions = 0;
  bool fin = false;
};

struct TcpConversation {
  ConversationKey key;
  TcpDirection direction[2];                // [0]: from key.first to key.second; [1]: back
  std::optional<double> syn, syn_ack, ack;  // the handshake's times (seconds)
  bool client_is_first = true;              // which endpoint sent the SYN
  bool reset = false;
  std::uint64_t order = 0;  // when it was first seen, for a stable listing

  // The SYN-to-ACK time of a complete handshake, in seconds.
  std::optional<double> handshake_rtt() const noexcept {
    if (!syn || !ack) return std::nullopt;
    return *ack - *syn;
  }
};

// What the tracker made of one segment.
struct TcpSegment {
  bool reversed = false;        // from key.second to key.first
  bool retransmission = false;  // its data (or SYN/FIN) was seen before in this direction
  std::uint32_t relative_seq = 0;
  std::uint32_t relative_ack = 0;  // from the other direction's base; 0 without ACK
};

class TcpTracker {
 public:
  static constexpr std::size_t kMaxConversations = 100000;

  // Follows a packet with a whole TCP header (others are ignored: nullopt).
  std::optional<TcpSegment> add(const DecodedPacket& packet, double time);

  const std::map<ConversationKey, TcpConversation>& conversations() const noexcept {
    return conversations_;
  }
  std::uint64_t untracked() const noexcept { return untracked_; }

 private:
  std::map<ConversationKey, TcpConversation> conversations_;
  std::uint64_t untracked_ = 0;
};

// Seconds since the epoch, as a double (microseconds kept).
inline double seconds(Timestamp t) noexcept {
  return static_cast<double>(t.seconds) + static_cast<double>(t.microseconds) / 1e6;
}

}  // namespace duplex::capture
