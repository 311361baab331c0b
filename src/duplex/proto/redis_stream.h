// Public. Redis Stream entry ids ("1764470000123-0": milliseconds, then a sequence within
// that millisecond), as the chat's Redis feed reads them from XADD and XREAD, and the
// number a chat message carries for them.
//
// A chat message id must stay exact in a browser (a JavaScript number: 2^53), so it is
// ms * 1024 + seq: until the year 2248, and for the first 1024 entries of a room within one
// millisecond (Redis numbers seq per stream). Past that the id is not exact (message_id()
// says so), while the stream id itself still orders the room.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::redis {

struct StreamId {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;

  // "ms-seq" exactly (both parts decimal as Redis writes them: no sign, space or leading
  // zero); nullopt otherwise.
  static std::optional<StreamId> parse(std::string_view text);
  // The inverse of message_id(): the entry a chat message id names.
  static StreamId from_message_id(std::int64_t id);
  std::string to_string() const;
  // ms * 1024 + seq; nullopt when that is not exact (seq >= 1024, or past 2^53).
  std::optional<std::int64_t> message_id() const;

  friend auto operator<=>(const StreamId&, const StreamId&) = default;
};

inline constexpr std::uint64_t kSeqPerMs = 1024;

}  // namespace duplex::redis
