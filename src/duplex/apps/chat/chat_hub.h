// Public. The chat rooms of `duplex serve`: members on any transport (TCP lines, WebSocket,
// HTTP POST) and the fan-out of each stored message to the members of its room. Where
// messages are stored and ordered is the feed's business (chat_feed.h): by default one
// process's SQLite history (chat_local_feed.h), or Redis Streams shared by several
// processes (chat_redis_feed.h). A post is acknowledged only once stored; members who
// join get the room's last kHistoryReplay delivered messages, and then each new one once.
// Loop thread only, every method.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace duplex {
class EventLoop;
}

namespace duplex::apps {

struct ChatMessage {
  std::int64_t id = 0;  // SQLite rowid, or a Redis stream id (redis_stream.h); increasing
  std::string room;
  std::string name;
  std::string text;
  std::int64_t ts_ms = 0;  // commit time, milliseconds since the epoch
  std::string via;         // "tcp", "websocket", "http", "irc"
};

// Field by field (for caches of a message's wire form).
inline bool same_message(const ChatMessage& a, const ChatMessage& b) {
  return a.id == b.id && a.ts_ms == b.ts_ms && a.room == b.room && a.name == b.name &&
         a.text == b.text && a.via == b.via;
}

struct RoomSummary {
  std::string name;
  std::size_t online = 0;
  std::int64_t messages = 0;  // stored
};

class ChatHub;

// One participant; the transports implement it. A member that is destroyed while it is in
// a room leaves it (the hub never holds a dangling member, whoever owns it and whatever
// dies first); a hub that is destroyed first lets go of its members.
class ChatMember {
 public:
  ChatMember() = default;
  virtual ~ChatMember();
  ChatMember(const ChatMember&) = delete;
  ChatMember& operator=(const ChatMember&) = delete;
  virtual void deliver(const ChatMessage& message) = 0;  // a committed message of its room
  virtual void notice(std::string_view text) = 0;        // joins, leaves, renames

 private:
  friend class ChatHub;
  ChatHub* hub_ = nullptr;  // the hub it has joined, until it leaves
};

// What the history keeps, and the free space it leaves on its disk.
struct ChatRetention {
  std::int64_t max_per_room = 0;         // messages kept per room; 0: every one
  std::chrono::milliseconds max_age{0};  // older messages are deleted; 0: kept
  std::uint64_t min_free_bytes = 0;      // commits are refused below this free space
};

class ChatFeed;
struct ChatFeedStatus;

class ChatHub {
 public:
  // With a local feed: opens (creating) the SQLite database at `db_path`; throws
  // duplex::Error naming the file and the fix when it cannot. Starts the writer thread,
  // which first applies `retention` to what is stored.
  ChatHub(EventLoop* loop, const std::string& db_path, const ChatRetention& retention = {});
  // With any feed (a Redis one, say).
  explicit ChatHub(std::unique_ptr<ChatFeed> feed);
  ~ChatHub();
  ChatHub(const ChatHub&) = delete;
  ChatHub& operator=(const ChatHub&) = delete;

  // Membership. join() returns the room's last kHistoryReplay messages, oldest first.
  std::vector<ChatMessage> join(ChatMember* member, std::string_view room, std::string_view name);
  void leave(ChatMember* member);
  void rename(ChatMember* member, std::string_view name);

  // Hands a message to the feed; once stored `on_committed` runs (the acknowledgement),
  // then every member of the room gets deliver(). A refused one calls on_failed instead.
  void post(ChatMember* from, std::string_view text, std::string_view via,
            std::function<void(const ChatMessage&)> on_committed,
            std::function<void(std::string_view error)> on_failed = {});
  // For the HTTP API: posts as `name` in `room` (no member needed), in the same batches as
  // post(): `on_committed` after the commit, `on_failed` when the commit fails or the
  // room, name or text is not valid (at once, then).
  void post_as(std::string_view room, std::string_view name, std::string_view text,
               std::string_view via, std::function<void(const ChatMessage&)> on_committed,
               std::function<void(std::string_view error)> on_failed);
  // Commits now (waiting for the writer, on the loop) and fans out; returns the stored
  // message. Throws duplex::Error when the commit fails (or the feed is not local).
  ChatMessage post_now(std::string_view room, std::string_view name, std::string_view text,
                       std::string_view via);

  std::vector<RoomSummary> rooms() const;
  std::vector<ChatMessage> history(std::string_view room, std::size_t limit) const;
  // A fresh guest name: "guest-1", "guest-2"...
  std::string guest_name();
  // Whether a name or room name is acceptable; the reason when not.
  static bool valid_name(std::string_view name, std::string* why = nullptr);

  // Added with the implementation, for the transports and the API:
  // Whether a message text is acceptable (1..kMaxTextBytes bytes of UTF-8 without control
  // characters other than tab); the reason when not.
  static bool valid_text(std::string_view text, std::string* why = nullptr);
  // Whether another member (not `except`) goes by this name now. Names compare without
  // regard to case (alice, Alice and ALICE are one name); valid names are ASCII, so ASCII
  // case folding is complete. Members keep the spelling they chose. With a shared feed the
  // other nodes' members count too, as last heard (a second apart: two nodes may still
  // give one name at once).
  bool name_taken(std::string_view name, const ChatMember* except = nullptr) const;
  // The member's name and room; "" when it has not joined.
  std::string name_of(const ChatMember* member) const;
  std::string room_of(const ChatMember* member) const;
  // The names of the members of a room, in the order they joined; then those of other
  // processes sharing the feed, as last heard.
  std::vector<std::string> members(std::string_view room) const;
  // Members online, this process's and (with a shared feed) the other nodes'.
  std::size_t online(std::string_view room) const;
  std::size_t online() const;  // in every room
  // Where the history is kept: the SQLite file, or the Redis URL (without its password).
  const std::string& db_path() const;
  // The feed's state, for the dashboard.
  ChatFeedStatus feed_status() const;
  // Posts not yet acknowledged or refused: queued, or with the writer.
  std::size_t unacknowledged() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duplex::apps
