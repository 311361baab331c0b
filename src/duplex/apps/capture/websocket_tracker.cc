#include "duplex/apps/capture/websocket_tracker.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace duplex::capture {
namespace {

// Whether a comma-separated field value names `token`, case-insensitively.
bool has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.size() == token.size()) {
      bool same = true;
      for (std::size_t i = 0; i < item.size() && same; ++i)
        same = std::tolower(static_cast<unsigned char>(item[i])) == token[i];
      if (same) return true;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::uint32_t WebSocketTracker::Direction::start_of(std::uint32_t seq) const noexcept {
  for (std::size_t i = 0; i < std::min(recent_count, kRecent); ++i)
    if (recent[i].first == seq) return recent[i].second;
  return kUnknownStart;
}

void WebSocketTracker::learn_http(Conversation& c, const DecodedPacket& p,
                                  std::span<const std::uint8_t> bytes, bool reversed) {
  const LayerSpan* l = p.find(Protocol::http);
  if (l == nullptr || p.http.head_length == 0) return;
  const auto own = l->in(bytes);
  Direction& d = c.direction[reversed ? 1 : 0];
  if (p.http.kind == http::HttpHead::Kind::request) {
    const auto* upgrade = p.http.find(own, "Upgrade");
    if (upgrade == nullptr || !has_token(upgrade->value.in(own), "websocket")) return;
    c.requested = true;
    c.upgraded = false;
    c.client_reversed = reversed;
    d = {Direction::Boundary::known, p.tcp.sequence + p.http.head_length,
         p.tcp.sequence + p.tcp.payload_length};
  } else if (p.http.kind == http::HttpHead::Kind::response && c.requested &&
             reversed != c.client_reversed && p.http.status == 101) {
    c.upgraded = true;
    ++upgraded_;
    d = {Direction::Boundary::known, p.tcp.sequence + p.http.head_length,
         p.tcp.sequence + p.tcp.payload_length};
  }
}

void WebSocketTracker::frames_after_101(Direction& d, DecodedPacket& p,
                                        std::span<const std::uint8_t> bytes) {
  // The server's first frames may share the 101's segment.
  if (p.http.head_length >= p.tcp.payload_length) return;
  const std::uint64_t covered = decode_websocket_payload(p, bytes, p.http.head_length);
  d.remember(p.tcp.sequence, p.http.head_length);
  if (covered == 0)
    d.boundary = Direction::Boundary::lost;
  else
    d.next_frame = p.tcp.sequence + static_cast<std::uint32_t>(covered);
}

void WebSocketTracker::follow(DecodedPacket& p, std::span<const std::uint8_t> bytes) {
  if (!p.has(Protocol::tcp) || p.tcp.header_length == 0 || p.tcp.payload_length == 0) return;
  const Directed d = conversation_of(p);
  auto it = conversations_.find(d.key);
  if (it == conversations_.end()) {
    // Only a request that asks for the upgrade starts one: other conversations cost nothing.
    if (!p.has(Protocol::http) || p.http.kind != http::HttpHead::Kind::request ||
        conversations_.size() >= kMaxConversations)
      return;
    it = conversations_.emplace(d.key, Conversation{}).first;
  }
  Conversation& c = it->second;
  if (!c.upgraded) {
    learn_http(c, p, bytes, d.reversed);
    if (c.upgraded) frames_after_101(c.direction[d.reversed ? 1 : 0], p, bytes);
    return;
  }

  Direction& own = c.direction[d.reversed ? 1 : 0];
  const std::uint32_t seq = p.tcp.sequence;
  const std::uint32_t length = p.tcp.payload_length;
  const auto distance = static_cast<std::int32_t>(seq - own.end);  // wraps like seq numbers
  const bool retransmission = own.boundary != Direction::Boundary::unset && distance < 0;
  std::uint32_t start = kUnknownStart;
  bool inside = false;  // the whole segment is the middle of one frame
  if (own.boundary == Direction::Boundary::unset) {
    start = 0;  // the first payload this way since the upgrade starts with a frame
  } else if (own.boundary == Direction::Boundary::known && distance == 0) {
    const std::uint32_t ahead = own.next_frame - seq;  // in order: a frame starts here or on
    inside = ahead >= length;
    start = inside ? length : ahead;
  }
  // A copy of a recent segment is decoded as that one was; the state stays as it is.
  if (retransmission) start = own.start_of(seq);
  const std::uint64_t covered = decode_websocket_payload(p, bytes, start);
  if (retransmission) return;
  own.end = seq + length;
  if (start == kUnknownStart) {  // after a gap (lost segments), or with the boundary lost
    own.boundary = Direction::Boundary::lost;
    return;
  }
  own.remember(seq, start);
  if (inside) return;
  if (covered == 0) {
    own.boundary = Direction::Boundary::lost;
    return;
  }
  own.boundary = Direction::Boundary::known;
  own.next_frame = seq + static_cast<std::uint32_t>(covered);
}

}  // namespace duplex::capture
