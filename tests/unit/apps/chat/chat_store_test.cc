#include "duplex/apps/chat/chat_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

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

}  // namespace
}  // namespace duplex::apps
