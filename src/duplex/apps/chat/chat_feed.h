// Public. The seam between the chat's rooms (ChatHub: members, fan-out) and where messages
// are kept and ordered. The hub hands every post to its feed; the feed answers the sender
// (stored, or refused) and hands the hub each stored message of every room, once, in the
// room's one order, for fan-out to this process's members.
//
// Two feeds: ChatLocalFeed (chat_local_feed.h, the default), one process's history in
// SQLite; ChatRedisFeed (chat_redis_feed.h, `duplex serve --redis`), Redis Streams shared
// by several processes, whose members then see each other's messages and presence.
// Loop thread only, every method.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/apps/chat/chat_hub.h"

namespace duplex::apps {

// What the dashboard shows of a feed (GET /api/status).
struct ChatFeedStatus {
  std::string kind;                // "sqlite" or "redis"
  std::string where;               // the file, or the Redis URL without its password
  bool connected = true;           // false while Redis is unreachable
  std::string error;               // why not connected, else ""
  std::vector<std::string> nodes;  // the other nodes sharing the feed, as presence says
  std::string node;                // this process's name among them ("" for a local feed)
};

class ChatFeed {
 public:
  using Stored = std::function<void(const ChatMessage&)>;
  using Failed = std::function<void(std::string_view error)>;
  using Deliver = std::function<void(const ChatMessage&)>;
  // A member of some process: name and room.
  using Presence = std::vector<std::pair<std::string, std::string>>;

  ChatFeed() = default;
  virtual ~ChatFeed();
  ChatFeed(const ChatFeed&) = delete;
  ChatFeed& operator=(const ChatFeed&) = delete;

  // Set once by the hub before any post: where stored messages go for fan-out, and how
  // to list this process's members (for presence shared with other processes).
  virtual void attach(Deliver deliver, std::function<Presence()> local_members) = 0;

  // A valid message (room, name, text, via). `on_stored` runs once it is stored, with its
  // id and time, and before this process delivers it; `on_failed` instead when it is not
  // (then it is not acknowledged; it may still appear, if the store took it but the answer
  // was lost).
  virtual void post(ChatMessage message, Stored on_stored, Failed on_failed) = 0;
  // Stores now, waiting on the loop, and delivers; throws duplex::Error when it cannot.
  virtual ChatMessage post_now(ChatMessage message) = 0;

  // The last `limit` delivered messages of `room`, oldest first: what a member who joins
  // now has not been and will not be delivered.
  virtual std::vector<ChatMessage> history(std::string_view room, std::size_t limit) const = 0;
  // Messages stored per room (as far as this process knows).
  virtual std::map<std::string, std::int64_t, std::less<>> counts() const = 0;
  // Posts neither acknowledged nor refused yet.
  virtual std::size_t unacknowledged() const = 0;
  // Members of the other processes sharing the feed (none for a local one).
  virtual Presence remote_members() const { return {}; }
  // Where the history is kept: a file, or a Redis URL without its password.
  virtual const std::string& where() const = 0;
  virtual ChatFeedStatus status() const = 0;
};

}  // namespace duplex::apps
