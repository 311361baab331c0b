// Public. The chat feed shared by several `duplex serve` processes (nodes) through one
// Redis server (`duplex serve --redis URL`): the members of every node share the rooms,
// their history and their presence.
//
//   rooms     each room is a Stream, duplex:room:<name>. A post is one XADD ... MAXLEN ~ N
//             (the history cap); its entry id (ms-seq, redis_stream.h) is the message's
//             global id and fixes one order of the room for every node. The sender is
//             acknowledged only once Redis has answered the XADD (or its entry came back
//             through XREAD, whichever is first): never before it is stored. With Redis
//             unreachable a post is refused at once with a line saying so.
//   delivery  each node reads every room's new entries with XREAD BLOCK on a connection of
//             its own and hands them to its hub, in the stream's order, once each: it keeps
//             the last id it delivered per room, so after a reconnect (backoff 100 ms to
//             2 s) it goes on from there, with no gap and no duplicate.
//   new rooms the set duplex:rooms lists them; the first post to a room also appends its
//             name to the stream duplex:rooms-log, which every node's XREAD watches, so a
//             node starts reading a room from its first entry as soon as it exists.
//   history   a join is answered from the last messages this node delivered (it loaded each
//             room's last ones with XREVRANGE at start), so a member gets each message once.
//   presence  every second each node writes its members (name, room) to
//             duplex:presence:<node> (expiring after 5 s) and lists itself in duplex:nodes,
//             then reads the other nodes' lists: /who shows the members of every node.
//             A node that stops deletes its own at once.
//
// Durability is Redis's: run it with appendonly yes (and appendfsync always for no loss of
// an acknowledged message on a crash of Redis itself).
// Loop thread only, every method.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "duplex/apps/chat/chat_feed.h"
#include "duplex/proto/redis_url.h"

namespace duplex {
class EventLoop;
}

namespace duplex::apps {

struct ChatRedisOptions {
  redis::Url url;
  std::int64_t max_len = 10000;  // entries kept per room (MAXLEN ~, so roughly)
  std::string node;              // this process's name in presence; "" picks host-pid-random
};

class ChatRedisFeed : public ChatFeed {
 public:
  // Connects and logs in at once (blocking, 2 s at most) and loads each room's last
  // messages; throws duplex::Error in one line naming the cause and the fix when Redis is
  // unreachable, refuses the password, or does not answer as Redis. Then runs on `loop`.
  ChatRedisFeed(EventLoop* loop, ChatRedisOptions options);
  ~ChatRedisFeed() override;

  void attach(Deliver deliver, std::function<Presence()> local_members) override;
  void post(ChatMessage message, Stored on_stored, Failed on_failed) override;
  // Refused: a Redis feed is asynchronous only.
  ChatMessage post_now(ChatMessage message) override;
  std::vector<ChatMessage> history(std::string_view room, std::size_t limit) const override;
  std::map<std::string, std::int64_t, std::less<>> counts() const override;
  std::size_t unacknowledged() const override;
  Presence remote_members() const override;
  const std::string& where() const override;
  ChatFeedStatus status() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duplex::apps
