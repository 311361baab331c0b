// Internal to the chat's Redis feed (chat_redis_feed.h): its keys, what it keeps per room,
// the reading of stream entries, and the blocking start (connect, log in, load).
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/apps/chat/chat_hub.h"
#include "duplex/proto/redis_stream.h"
#include "duplex/proto/redis_url.h"

namespace duplex::apps::redis_feed {

inline constexpr std::string_view kRoomPrefix = "duplex:room:";          // + room: its stream
inline constexpr std::string_view kRoomsSet = "duplex:rooms";            // every room's name
inline constexpr std::string_view kRoomsLog = "duplex:rooms-log";        // a stream of new rooms
inline constexpr std::string_view kNodesSet = "duplex:nodes";            // nodes with presence
inline constexpr std::string_view kPresencePrefix = "duplex:presence:";  // + node
inline constexpr std::size_t kKeptPerRoom = 1000;  // messages kept in memory for history

struct Room {
  redis::StreamId last;            // the last entry delivered (0-0: read from the start)
  std::deque<ChatMessage> recent;  // the last delivered ones, oldest first
  std::int64_t count = 0;          // stored, as far as this node knows
};
using Rooms = std::map<std::string, Room, std::less<>>;

// One stream entry of a room: the message, and which node's which post it was.
struct Entry {
  redis::StreamId id;
  ChatMessage message;
  std::string node;
  std::uint64_t post = 0;
};

// A reply's bytes (a string, status or error reply); empty for any other kind or null.
std::string_view text(const redisReply* r);

// An entry as XREAD and XRANGE give it ([id, [field, value, ...]]); nullopt when it is not
// one the chat wrote.
std::optional<Entry> parse_entry(const redisReply* entry, std::string_view room);
// The chat message id of a stream id (redis_stream.h), the closest one when not exact.
std::int64_t message_id(const redis::StreamId& id);

struct Snapshot {
  redis::StreamId rooms_log;  // the last entry of the rooms log
  Rooms rooms;
};

// Connects (2 s at most), logs in and loads each room's last messages, blocking. Throws
// duplex::Error in one line naming the cause and the fix.
Snapshot open_and_load(const redis::Url& url);

// Deletes a node's presence at once (a node that stops), blocking for half a second at
// most; errors are ignored: the presence expires anyway.
void forget_node(const redis::Url& url, const std::string& node);

}  // namespace duplex::apps::redis_feed
