#include "duplex/apps/chat/chat_hub.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"
#include "temp_db.h"

namespace duplex::apps {
namespace {

using test::TempDb;

// Records what the hub tells it, into a log shared by every member of a test.
class Recorder : public ChatMember {
 public:
  Recorder(std::string who, std::vector<std::string>& log) : who_(std::move(who)), log_(log) {}
  void deliver(const ChatMessage& m) override {
    log_.push_back(who_ + " got " + m.name + ":" + m.text);
  }
  void notice(std::string_view text) override {
    log_.push_back(who_ + " notice " + std::string(text));
  }

 private:
  std::string who_;
  std::vector<std::string>& log_;
};

// Runs the loop until `done()` holds (commits come back from the writer thread as queued
// work), or 10 s passed; returns done().
bool run_until(EventLoop& loop, const std::function<bool()>& done) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  const auto timer = loop.run_every(std::chrono::milliseconds(1), [&] {
    if (done() || Clock::now() > deadline) loop.quit();
  });
  loop.loop();
  loop.cancel(timer);
  return done();
}

// Runs the loop until every post was acknowledged or refused.
void run_until_settled(EventLoop& loop, const ChatHub& hub) {
  ASSERT_TRUE(run_until(loop, [&hub] { return hub.unacknowledged() == 0; }));
}

TEST(ChatHub, APostIsAcknowledgedAfterTheCommitAndBeforeAnyoneReceivesIt) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder alice("alice", log), bob("bob", log);
  hub.join(&alice, "lobby", "alice");
  hub.join(&bob, "lobby", "bob");
  log.clear();
  hub.post(&alice, "hi", "tcp", [&](const ChatMessage& m) {
    log.push_back("ack " + std::to_string(m.id));
    // Committed: already readable from the store.
    EXPECT_EQ(hub.history("lobby", 1).at(0).id, m.id);
  });
  EXPECT_TRUE(log.empty());  // nothing before the loop commits
  run_until_settled(loop, hub);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].substr(0, 4), "ack ");
  EXPECT_EQ(log[1], "alice got alice:hi");
  EXPECT_EQ(log[2], "bob got alice:hi");
}

TEST(ChatHub, PostAsAMemberOfNoRoomIsAcknowledgedAfterTheCommitThenFannedOut) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder alice("alice", log);
  hub.join(&alice, "ops", "alice");
  log.clear();
  hub.post_as(
      "ops", "bot", "deployed", "http",
      [&](const ChatMessage& m) {
        log.push_back("ack " + m.name + " via " + m.via);
        EXPECT_EQ(hub.history("ops", 1).at(0).id, m.id);  // committed
      },
      [&](std::string_view e) { log.push_back("failed " + std::string(e)); });
  EXPECT_TRUE(log.empty());  // nothing before the loop commits
  run_until_settled(loop, hub);
  EXPECT_EQ(log, (std::vector<std::string>{"ack bot via http", "alice got bot:deployed"}));
  // A bad name is refused at once, and nothing is queued.
  std::string error;
  hub.post_as("ops", "no spaces", "x", "http", {}, [&](std::string_view e) { error = e; });
  EXPECT_NE(error.find("not a valid name"), std::string::npos) << error;
  EXPECT_EQ(hub.unacknowledged(), 0u);
}

TEST(ChatHub, PostsOfOneRoundAreCommittedTogetherThenAllAcknowledgedThenFannedOut) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder alice("alice", log);
  hub.join(&alice, "lobby", "alice");
  log.clear();
  std::vector<ChatMessage> acked;
  for (const char* text : {"1", "2", "3"})
    hub.post(&alice, text, "tcp", [&](const ChatMessage& m) {
      acked.push_back(m);
      log.push_back("ack");
    });
  run_until_settled(loop, hub);
  ASSERT_EQ(acked.size(), 3u);
  EXPECT_EQ(acked[1].id, acked[0].id + 1);
  EXPECT_EQ(acked[2].id, acked[1].id + 1);
  EXPECT_EQ(acked[0].ts_ms, acked[2].ts_ms);  // one commit, one time
  const std::vector<std::string> want{
      "ack", "ack", "ack", "alice got alice:1", "alice got alice:2", "alice got alice:3"};
  EXPECT_EQ(log, want);
}

TEST(ChatHub, JoinReplaysTheLastHundredMessagesOfTheRoomOldestFirst) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  for (int i = 0; i < 120; ++i) hub.post_now("lobby", "bot", std::to_string(i), "http");
  hub.post_now("ops", "bot", "elsewhere", "http");
  std::vector<std::string> log;
  Recorder late("late", log);
  const auto history = hub.join(&late, "lobby", "late");
  ASSERT_EQ(history.size(), chat::kHistoryReplay);
  EXPECT_EQ(history.front().text, "20");
  EXPECT_EQ(history.back().text, "119");
}

TEST(ChatHub, MembersOfAnotherRoomDoNotReceiveTheMessage) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder alice("alice", log), carol("carol", log);
  hub.join(&alice, "lobby", "alice");
  hub.join(&carol, "ops", "carol");
  log.clear();
  hub.post(&alice, "lobby only", "tcp", nullptr);
  run_until_settled(loop, hub);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "alice got alice:lobby only");
}

TEST(ChatHub, GuestNamesCountUpAndSkipTakenNames) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder a("a", log), b("b", log);
  EXPECT_EQ(hub.guest_name(), "guest-1");
  hub.join(&a, "lobby", "guest-2");
  EXPECT_TRUE(hub.name_taken("guest-2"));
  EXPECT_FALSE(hub.name_taken("guest-2", &a));
  EXPECT_EQ(hub.guest_name(), "guest-3");
  hub.join(&b, "lobby", "");  // no name: a guest name
  EXPECT_EQ(hub.name_of(&b), "guest-4");
}

TEST(ChatHub, NamesCompareWithoutRegardToCaseAndKeepTheSpellingChosen) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder alice("alice", log), bob("bob", log);
  hub.join(&alice, "lobby", "Alice");
  hub.join(&bob, "ops", "bob");
  for (const char* other : {"alice", "Alice", "ALICE", "aLiCe"})
    EXPECT_TRUE(hub.name_taken(other, &bob)) << other;
  EXPECT_FALSE(hub.name_taken("ALICE", &alice));  // one's own name, in another case
  EXPECT_FALSE(hub.name_taken("alice2"));
  EXPECT_EQ(hub.name_of(&alice), "Alice");
  hub.rename(&alice, "ALICE");
  EXPECT_EQ(hub.members("lobby"), std::vector<std::string>{"ALICE"});
}

TEST(ChatHub, AMemberDestroyedWithoutLeavingIsNoLongerInItsRoom) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder alice("alice", log);
  hub.join(&alice, "lobby", "alice");
  {
    Recorder bob("bob", log);
    hub.join(&bob, "lobby", "bob");
  }
  // Before, bob stayed in the room and the post below delivered to freed memory.
  ASSERT_EQ(hub.online(), 1u);
  EXPECT_EQ(hub.members("lobby"), std::vector<std::string>{"alice"});
  log.clear();
  hub.post(&alice, "hi", "tcp", nullptr);
  run_until_settled(loop, hub);
  EXPECT_EQ(log, std::vector<std::string>{"alice got alice:hi"});
}

TEST(ChatHub, AMemberThatOutlivesTheHubCanStillBeDestroyed) {
  TempDb db;
  EventLoop loop;
  std::vector<std::string> log;
  Recorder alice("alice", log);
  auto hub = std::make_unique<ChatHub>(&loop, db.path());
  hub->join(&alice, "lobby", "alice");
  EXPECT_EQ(hub->online(), 1u);
  hub.reset();  // alice's destructor must not reach the freed hub (ASan checks)
}

TEST(ChatHub, RenameAndLeaveAreAnnouncedToTheRoom) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder a("a", log), b("b", log);
  hub.join(&a, "lobby", "alice");
  hub.join(&b, "lobby", "bob");
  EXPECT_EQ(log.back(), "a notice bob joined lobby");
  hub.rename(&b, "robert");
  EXPECT_EQ(log.back(), "b notice bob is now robert");
  hub.leave(&b);
  EXPECT_EQ(log.back(), "a notice robert left lobby");
  EXPECT_EQ(hub.online("lobby"), 1u);
}

TEST(ChatHub, NamesAreShortAndMadeOfLettersDigitsAndFewMarks) {
  std::string why;
  EXPECT_TRUE(ChatHub::valid_name("alice_1.x-y"));
  EXPECT_FALSE(ChatHub::valid_name("", &why));
  EXPECT_FALSE(ChatHub::valid_name("has space", &why));
  EXPECT_NE(why.find("letters"), std::string::npos);
  EXPECT_FALSE(ChatHub::valid_name(std::string(chat::kMaxNameBytes + 1, 'a'), &why));
  EXPECT_TRUE(ChatHub::valid_name(std::string(chat::kMaxNameBytes, 'a')));
}

TEST(ChatHub, TextMustBeShortUtf8WithoutControlCharacters) {
  std::string why;
  EXPECT_TRUE(ChatHub::valid_text("h\xc3\xa9llo\tworld"));
  EXPECT_FALSE(ChatHub::valid_text("bad \xff byte", &why));
  EXPECT_NE(why.find("UTF-8"), std::string::npos);
  EXPECT_FALSE(ChatHub::valid_text("bell\a", &why));
  EXPECT_FALSE(
      ChatHub::valid_text("csi \xc2\x9b"
                          "31m red",
                          &why));  // U+009B, a C1 control
  EXPECT_FALSE(ChatHub::valid_text("\x1b[2J", &why));
  EXPECT_TRUE(ChatHub::valid_text("caf\xc3\xa9 \xc2\xa0 \xc2\xbf", &why));  // é, NBSP, ¿
  EXPECT_FALSE(ChatHub::valid_text(std::string(chat::kMaxTextBytes + 1, 'x'), &why));
  EXPECT_NE(why.find("too long"), std::string::npos);
}

TEST(ChatHub, AFailedPostCallsOnFailedAndStoresNothing) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder a("a", log);
  std::string error;
  hub.post(&a, "not joined", "tcp", nullptr, [&](std::string_view e) { error = e; });
  EXPECT_NE(error.find("join"), std::string::npos);
  hub.join(&a, "lobby", "alice");
  hub.post(&a, "\x01", "tcp", nullptr, [&](std::string_view e) { error = e; });
  EXPECT_NE(error.find("control"), std::string::npos);
  run_until_settled(loop, hub);
  EXPECT_TRUE(hub.history("lobby", 10).empty());
}

// A second connection to the hub's file, as another process would have: to hold the write
// lock or change the schema under the hub.
class SideConnection {
 public:
  explicit SideConnection(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~SideConnection() { sqlite3_close(db_); }
  void exec(const char* sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK) << error;
    sqlite3_free(error);
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(ChatHub, ACommitThatFailsRefusesEveryPostOfTheBatchAndNothingIsAcknowledgedOrFannedOut) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder alice("alice", log), bob("bob", log);
  hub.join(&alice, "lobby", "alice");
  hub.join(&bob, "lobby", "bob");
  log.clear();
  // Every insert now fails inside the writer's transaction, as a full disk or an I/O error
  // would make it fail.
  SideConnection(db.path()).exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk "
      "failure'); END");
  for (const char* text : {"one", "two"})
    hub.post(
        &alice, text, "tcp", [&](const ChatMessage&) { log.push_back("ack"); },
        [&](std::string_view e) { log.push_back("failed: " + std::string(e)); });
  run_until_settled(loop, hub);
  ASSERT_EQ(log.size(), 2u);  // no ack, no delivery to alice or bob
  for (const auto& line : log) {
    EXPECT_EQ(line.rfind("failed: cannot write to " + db.path(), 0), 0u) << line;
    EXPECT_NE(line.find("disk failure"), std::string::npos) << line;
  }
  EXPECT_TRUE(hub.history("lobby", 10).empty());
  EXPECT_EQ(hub.rooms().front().messages, 0);
}

TEST(ChatHub, TheLoopKeepsRunningWhileACommitWaitsForTheDisk) {
  TempDb db;
  EventLoop loop;
  ChatHub hub(&loop, db.path());
  std::vector<std::string> log;
  Recorder alice("alice", log);
  hub.join(&alice, "lobby", "alice");
  log.clear();
  {
    // Another writer holds the lock: the commit waits (as it would for a slow fsync).
    SideConnection side(db.path());
    side.exec("BEGIN IMMEDIATE");
    bool acked = false;
    hub.post(&alice, "hi", "tcp", [&](const ChatMessage&) { acked = true; });
    int ticks = 0;
    const auto timer = loop.run_every(std::chrono::milliseconds(2), [&] { ++ticks; });
    // A loop stalled by the commit would not tick at all until the lock times out.
    EXPECT_TRUE(run_until(loop, [&] { return ticks >= 20; }));
    loop.cancel(timer);
    EXPECT_FALSE(acked);
    EXPECT_EQ(hub.unacknowledged(), 1u);
    side.exec("COMMIT");
    EXPECT_TRUE(run_until(loop, [&] { return acked; }));
  }
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "alice got alice:hi");
}

TEST(ChatHub, RetentionKeepsTheLastMessagesOfEachRoomAndTheCountsFollow) {
  TempDb db;
  EventLoop loop;
  ChatRetention retention;
  retention.max_per_room = 5;
  ChatHub hub(&loop, db.path(), retention);
  for (int i = 0; i < 8; ++i) hub.post_now("lobby", "bot", std::to_string(i), "http");
  hub.post_now("ops", "bot", "elsewhere", "http");
  const auto history = hub.history("lobby", 100);
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history.front().text, "3");
  EXPECT_EQ(history.back().text, "7");
  EXPECT_EQ(hub.history("ops", 100).size(), 1u);
  const auto rooms = hub.rooms();
  ASSERT_EQ(rooms.size(), 2u);
  EXPECT_EQ(rooms[0].name, "lobby");
  EXPECT_EQ(rooms[0].messages, 5);
}

TEST(ChatHub, RetentionAtStartTrimsAFileThatHoldsMoreThanTheCap) {
  TempDb db;
  EventLoop loop;
  {
    ChatHub hub(&loop, db.path());
    for (int i = 0; i < 30; ++i) hub.post_now("lobby", "bot", std::to_string(i), "http");
  }
  ChatRetention retention;
  retention.max_per_room = 10;
  ChatHub hub(&loop, db.path(), retention);
  ASSERT_TRUE(run_until(loop, [&] { return hub.rooms().front().messages == 10; }));
  const auto history = hub.history("lobby", 100);
  ASSERT_EQ(history.size(), 10u);
  EXPECT_EQ(history.front().text, "20");
}

TEST(ChatHub, ThePostsOfAFullDiskAreRefusedWithTheFreeSpaceAndTheLimit) {
  TempDb db;
  EventLoop loop;
  ChatRetention retention;
  retention.min_free_bytes = std::uint64_t{1} << 60;  // more than any disk has free
  ChatHub hub(&loop, db.path(), retention);
  std::vector<std::string> log;
  Recorder alice("alice", log);
  hub.join(&alice, "lobby", "alice");
  log.clear();
  std::string error;
  bool acked = false;
  hub.post(
      &alice, "hi", "tcp", [&](const ChatMessage&) { acked = true; },
      [&](std::string_view e) { error = e; });
  run_until_settled(loop, hub);
  EXPECT_FALSE(acked);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(error.rfind("not stored: the disk holding " + db.path() + " has ", 0), 0u) << error;
  EXPECT_NE(error.find(" free, under --min-free 1073741824 GiB"), std::string::npos) << error;
  EXPECT_THROW(hub.post_now("lobby", "bot", "x", "http"), Error);
  EXPECT_TRUE(hub.history("lobby", 10).empty());
}

}  // namespace
}  // namespace duplex::apps
