#include "duplex/apps/chat/chat_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "duplex/base/error.h"

namespace duplex::apps {
namespace {

// A fresh directory under TMPDIR, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "duplex-chat-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

ChatMessage message(std::string room, std::string name, std::string text) {
  return ChatMessage{0, std::move(room), std::move(name), std::move(text), 1764470000123, "tcp"};
}

TEST(ChatStore, AppendSetsIncreasingIdsAndRecentReturnsTheRoomOldestFirst) {
  TempDir dir;
  ChatStore store((dir.path() / "chat.db").string());
  std::vector<ChatMessage> batch{message("lobby", "a", "one"), message("ops", "b", "two"),
                                 message("lobby", "c", "three")};
  store.append(batch);
  EXPECT_LT(batch[0].id, batch[1].id);
  EXPECT_LT(batch[1].id, batch[2].id);
  const auto lobby = store.recent("lobby", 10);
  ASSERT_EQ(lobby.size(), 2u);
  EXPECT_EQ(lobby[0].text, "one");
  EXPECT_EQ(lobby[1].text, "three");
  EXPECT_EQ(lobby[1].name, "c");
  EXPECT_EQ(lobby[1].ts_ms, 1764470000123);
  EXPECT_EQ(lobby[1].via, "tcp");
}

TEST(ChatStore, RecentKeepsOnlyTheLastLimitMessages) {
  TempDir dir;
  ChatStore store((dir.path() / "chat.db").string());
  std::vector<ChatMessage> batch;
  for (int i = 0; i < 150; ++i) batch.push_back(message("lobby", "a", std::to_string(i)));
  store.append(batch);
  const auto last = store.recent("lobby", 100);
  ASSERT_EQ(last.size(), 100u);
  EXPECT_EQ(last.front().text, "50");
  EXPECT_EQ(last.back().text, "149");
}

TEST(ChatStore, MessagesSurviveClosingAndReopeningTheFile) {
  TempDir dir;
  const auto path = (dir.path() / "chat.db").string();
  {
    ChatStore store(path);
    std::vector<ChatMessage> batch{message("lobby", "a", "kept")};
    store.append(batch);
  }
  ChatStore again(path);
  const auto lobby = again.recent("lobby", 10);
  ASSERT_EQ(lobby.size(), 1u);
  EXPECT_EQ(lobby[0].text, "kept");
  const auto counts = again.room_counts();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].first, "lobby");
  EXPECT_EQ(counts[0].second, 1);
}

TEST(ChatStore, CreatesTheParentDirectories) {
  TempDir dir;
  const auto path = dir.path() / "a" / "b" / "chat.db";
  ChatStore store(path.string());
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(ChatStore, AnUnusablePathThrowsNamingTheFileAndTheFix) {
  TempDir dir;
  const auto file = dir.path() / "plain-file";
  std::ofstream(file) << "x";
  const auto path = (file / "chat.db").string();  // a file where a directory should be
  try {
    ChatStore store(path);
    FAIL() << "no exception";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(file.string()), std::string::npos) << what;
    EXPECT_NE(what.find("--db PATH"), std::string::npos) << what;
  }
}

TEST(ChatStore, AppendDeletesMessagesOlderThanTheMaxAgeInTheSameTransaction) {
  TempDir dir;
  ChatStore store((dir.path() / "chat.db").string());
  std::vector<ChatMessage> old{message("lobby", "a", "old"), message("ops", "b", "old too")};
  store.append(old);  // ts 2025-11-30
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::vector<ChatMessage> fresh{message("lobby", "c", "new")};
  fresh[0].ts_ms = now;
  ChatRetention retention;
  retention.max_age = std::chrono::hours(1);
  PrunedCounts pruned;
  store.append(fresh, retention, &pruned);
  EXPECT_EQ(pruned, (PrunedCounts{{"lobby", 1}, {"ops", 1}}));
  const auto lobby = store.recent("lobby", 10);
  ASSERT_EQ(lobby.size(), 1u);
  EXPECT_EQ(lobby[0].text, "new");
  EXPECT_TRUE(store.recent("ops", 10).empty());
}

TEST(ChatStore, PruneDeletesInBatchesSoThatNoTransactionIsLong) {
  TempDir dir;
  ChatStore store((dir.path() / "chat.db").string());
  std::vector<ChatMessage> batch;
  for (int i = 0; i < ChatStore::kPruneBatch + 10; ++i)
    batch.push_back(message("lobby", "a", std::to_string(i)));
  store.append(batch);
  ChatRetention retention;
  retention.max_per_room = 5;
  EXPECT_EQ(store.prune(retention, true), (PrunedCounts{{"lobby", ChatStore::kPruneBatch}}));
  EXPECT_EQ(store.prune(retention, true), (PrunedCounts{{"lobby", 5}}));
  EXPECT_TRUE(store.prune(retention, true).empty());
  EXPECT_EQ(store.recent("lobby", 100).front().text, std::to_string(ChatStore::kPruneBatch + 5));
}

}  // namespace
}  // namespace duplex::apps
