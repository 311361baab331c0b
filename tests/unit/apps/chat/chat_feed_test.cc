// ChatHub over a feed of the test's own (chat_feed.h): the hub fans out exactly what its
// feed delivers, in the feed's order, and sees the members of other nodes it reports.
#include "duplex/apps/chat/chat_feed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/chat/chat_hub.h"
#include "duplex/base/error.h"

namespace duplex::apps {
namespace {

// Holds posts until the test stores them, then delivers whatever the test says.
class ScriptedFeed : public ChatFeed {
 public:
  struct Post {
    ChatMessage message;
    Stored on_stored;
    Failed on_failed;
  };

  void attach(Deliver deliver, std::function<Presence()> local_members) override {
    deliver_ = std::move(deliver);
    local_ = std::move(local_members);
  }
  void post(ChatMessage m, Stored on_stored, Failed on_failed) override {
    posts.push_back(Post{std::move(m), std::move(on_stored), std::move(on_failed)});
  }
  ChatMessage post_now(ChatMessage) override { throw Error("not here"); }
  std::vector<ChatMessage> history(std::string_view room, std::size_t limit) const override {
    std::vector<ChatMessage> out;
    for (const auto& m : delivered)
      if (m.room == room) out.push_back(m);
    if (out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
    return out;
  }
  std::map<std::string, std::int64_t, std::less<>> counts() const override { return {}; }
  std::size_t unacknowledged() const override { return posts.size(); }
  Presence remote_members() const override { return remote; }
  const std::string& where() const override { return where_; }
  ChatFeedStatus status() const override { return {"scripted", where_, true, "", {}, ""}; }

  // A message as another node's post, or one of ours, reaching this node.
  void deliver(ChatMessage m) {
    delivered.push_back(m);
    deliver_(m);
  }
  Presence local() const { return local_(); }

  std::vector<Post> posts;
  std::vector<ChatMessage> delivered;
  Presence remote;

 private:
  Deliver deliver_;
  std::function<Presence()> local_;
  std::string where_ = "scripted";
};

class Recorder : public ChatMember {
 public:
  void deliver(const ChatMessage& m) override { got.push_back(m.name + ":" + m.text); }
  void notice(std::string_view) override {}
  std::vector<std::string> got;
};

ChatMessage message(std::int64_t id, std::string name, std::string text) {
  return ChatMessage{id, "lobby", std::move(name), std::move(text), 0, "tcp"};
}

// A hub over a scripted feed, with alice and bob in the lobby.
struct Lobby {
  Lobby() : owned(std::make_unique<ScriptedFeed>()), feed(*owned), hub(std::move(owned)) {
    hub.join(&alice, "lobby", "alice");
    hub.join(&bob, "lobby", "bob");
  }
  std::unique_ptr<ScriptedFeed> owned;
  ScriptedFeed& feed;
  ChatHub hub;
  Recorder alice, bob;
};

TEST(ChatFeed, TheHubFansOutWhatTheFeedDeliversInItsOrderNotWhatWasPosted) {
  Lobby l;
  bool acked = false;
  l.hub.post(&l.alice, "hi", "tcp", [&](const ChatMessage&) { acked = true; });
  ASSERT_EQ(l.feed.posts.size(), 1u);
  EXPECT_TRUE(l.alice.got.empty());  // posted is not stored: nobody sees it yet
  // Another node's message was stored first: the feed's order is the room's order.
  l.feed.deliver(message(1, "carol", "from node 2"));
  l.feed.posts[0].on_stored(message(2, "alice", "hi"));
  l.feed.deliver(message(2, "alice", "hi"));
  EXPECT_TRUE(acked);
  const std::vector<std::string> order{"carol:from node 2", "alice:hi"};
  EXPECT_EQ(l.alice.got, order);
  EXPECT_EQ(l.bob.got, order);
}

TEST(ChatFeed, ARefusedPostReachesNoOne) {
  Lobby l;
  std::string error;
  l.hub.post(&l.alice, "hi", "tcp", {}, [&](std::string_view why) { error = why; });
  l.feed.posts[0].on_failed("not stored: Redis at h:1 is unreachable");
  EXPECT_EQ(error, "not stored: Redis at h:1 is unreachable");
  EXPECT_TRUE(l.bob.got.empty());
}

TEST(ChatFeed, JoinReplaysTheFeedsHistory) {
  Lobby l;
  l.feed.deliver(message(1, "carol", "earlier"));
  Recorder dave;
  const auto replay = l.hub.join(&dave, "lobby", "dave");
  ASSERT_EQ(replay.size(), 1u);
  EXPECT_EQ(replay[0].text, "earlier");
}

TEST(ChatFeed, OtherNodesMembersShowInWhoAndTheCountsAndTakeTheirNames) {
  Lobby l;
  l.feed.remote = {{"carol", "lobby"}, {"erin", "ops"}};
  EXPECT_EQ(l.hub.members("lobby"), (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_TRUE(l.hub.name_taken("Carol"));
  EXPECT_FALSE(l.hub.name_taken("frank"));
  // The counts that the dashboard shows ("N online") include them too.
  EXPECT_EQ(l.hub.online("lobby"), 3u);
  EXPECT_EQ(l.hub.online("ops"), 1u);
  EXPECT_EQ(l.hub.online(), 4u);
  const auto rooms = l.hub.rooms();
  const auto ops =
      std::find_if(rooms.begin(), rooms.end(), [](auto& r) { return r.name == "ops"; });
  ASSERT_NE(ops, rooms.end());
  EXPECT_EQ(ops->online, 1u);
  // What the feed shares with other nodes: this node's members.
  auto local = l.feed.local();
  std::sort(local.begin(), local.end());
  EXPECT_EQ(local, (ChatFeed::Presence{{"alice", "lobby"}, {"bob", "lobby"}}));
}

}  // namespace
}  // namespace duplex::apps
