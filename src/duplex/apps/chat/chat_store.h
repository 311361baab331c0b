// Public. The chat history of `duplex serve` in one SQLite file: a table of messages, an
// index on (room, id), WAL mode with synchronous=FULL, so that a transaction that returned
// is on disk (kill -9 or a power cut keeps it).
//
// Not thread-safe: one store belongs to one thread (ChatHub's loop).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/apps/chat/chat_hub.h"

struct sqlite3;

namespace duplex::apps {

class ChatStore {
 public:
  // Opens (creating it and its parent directory) the database at `path`. Throws
  // duplex::Error naming the file, the cause and the fix ("choose another with --db PATH").
  explicit ChatStore(std::string path);
  ~ChatStore();
  ChatStore(const ChatStore&) = delete;
  ChatStore& operator=(const ChatStore&) = delete;

  // Inserts the messages in one transaction and sets their ids. Throws duplex::Error (and
  // rolls back) when the commit fails; then no message of the batch is stored.
  void append(std::span<ChatMessage> messages);
  // The last `limit` messages of `room`, oldest first.
  std::vector<ChatMessage> recent(std::string_view room, std::size_t limit) const;
  // Every room with stored messages, and how many.
  std::vector<std::pair<std::string, std::int64_t>> room_counts() const;
  const std::string& path() const noexcept { return path_; }

 private:
  [[noreturn]] void fail(std::string_view what) const;
  void exec(const char* sql);

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace duplex::apps
