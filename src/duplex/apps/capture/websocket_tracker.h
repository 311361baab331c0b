// Public. WebSocket in the capture: a TCP segment is a WebSocket frame only after an HTTP
// Upgrade in its conversation, which a per-packet decoder cannot know. The tracker follows
// each TCP conversation (keyed by its 4-tuple, as tcp_tracker.h) across the packets of one
// run: an HTTP request with "Upgrade: websocket" then a 101 answer the other way make the
// conversation WebSocket, and from then on each direction's payloads are decoded as frames
// (chain.h's decode_websocket_payload), several per segment. Each direction remembers the
// sequence number where its next frame starts, so a segment that begins inside a frame says
// so (the rest of a frame begun earlier) rather than reading payload bytes as a header; a
// gap, a retransmission or a frame header split across segments loses the boundary, and the
// segments after it are shown as WebSocket data at no known frame.
//
// Bounded: past kMaxConversations, new conversations are not followed. Used from one thread,
// over the packets in their order (one tracker per capture run).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <utility>

#include "duplex/apps/capture/chain.h"
#include "duplex/apps/capture/conversation.h"

namespace duplex::capture {

class WebSocketTracker {
 public:
  static constexpr std::size_t kMaxConversations = 100000;

  // Learns from `packet` (decoded from `bytes` by decode_packet) and, in an upgraded
  // conversation, re-decodes its TCP payload as WebSocket frames. Other packets are left.
  void follow(DecodedPacket& packet, std::span<const std::uint8_t> bytes);

  std::size_t upgraded() const noexcept { return upgraded_; }

 private:
  struct Direction {
    enum class Boundary : std::uint8_t { unset, known, lost };
    Boundary boundary = Boundary::unset;
    std::uint32_t next_frame = 0;  // the sequence number where the next frame starts
    std::uint32_t end = 0;         // one past the last payload byte seen this way
    // The last segments' sequence numbers and where their frames started, so that a
    // retransmitted copy of one is decoded as the original was.
    static constexpr std::size_t kRecent = 8;
    std::array<std::pair<std::uint32_t, std::uint32_t>, kRecent> recent{};
    std::size_t recent_count = 0;
    void remember(std::uint32_t seq, std::uint32_t start) noexcept {
      recent[recent_count++ % kRecent] = {seq, start};
    }
    std::uint32_t start_of(std::uint32_t seq) const noexcept;
  };
  struct Conversation {
    bool requested = false;        // an Upgrade: websocket request was seen
    bool client_reversed = false;  // which direction sent it
    bool upgraded = false;         // and a 101 answered it
    Direction direction[2];        // [0]: from key.first; [1]: from key.second
  };
  static void frames_after_101(Direction& d, DecodedPacket& p, std::span<const std::uint8_t> bytes);
  void learn_http(Conversation& c, const DecodedPacket& p, std::span<const std::uint8_t> bytes,
                  bool reversed);

  std::map<ConversationKey, Conversation> conversations_;
  std::size_t upgraded_ = 0;
};

}  // namespace duplex::capture
