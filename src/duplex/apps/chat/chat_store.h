// Public. The chat history of `duplex serve` in one SQLite file: a table of messages, an
// index on (room, id), WAL mode with synchronous=FULL, so that a transaction that returned
// is on disk (kill -9 or a power cut keeps it).
//
// Retention: a commit also deletes the oldest rows beyond a cap per room and rows older than
// a maximum age, at most kPruneBatch of each per room, in the same transaction. Disk guard:
// a commit is refused while the filesystem holding the file has less than min_free_bytes.
//
// Not thread-safe: one store belongs to one thread at a time (ChatHub has two: one for its
// writer thread, one for reads on its loop; WAL lets them work at once).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/apps/chat/chat_hub.h"

struct sqlite3;

namespace duplex::apps {

// Rows deleted, per room.
using PrunedCounts = std::map<std::string, std::int64_t, std::less<>>;

class ChatStore {
 public:
  // Opens (creating it and its parent directory) the database at `path`. Throws
  // duplex::Error naming the file, the cause and the fix ("choose another with --db PATH").
  explicit ChatStore(std::string path);
  ~ChatStore();
  ChatStore(const ChatStore&) = delete;
  ChatStore& operator=(const ChatStore&) = delete;

  static constexpr std::int64_t kPruneBatch = 1000;

  // Inserts the messages in one transaction and sets their ids; the same transaction
  // deletes what `retention` no longer keeps (added to *pruned). Throws duplex::Error (and
  // rolls back) when the commit fails or the disk guard refuses it; then no message of the
  // batch is stored.
  void append(std::span<ChatMessage> messages, const ChatRetention& retention = {},
              PrunedCounts* pruned = nullptr);
  // One transaction of retention alone (at start, and while no one posts): what it deleted.
  // The cap per room is checked for every room only with `every_room` (a scan of the index).
  PrunedCounts prune(const ChatRetention& retention, bool every_room);
  // The last `limit` messages of `room` with ids up to `max_id`, oldest first.
  std::vector<ChatMessage> recent(std::string_view room, std::size_t limit,
                                  std::int64_t max_id = INT64_MAX) const;
  // The largest id stored (0 when none).
  std::int64_t last_id() const;
  // Bytes free for an unprivileged user on the filesystem holding the file.
  std::uint64_t free_bytes() const;
  // Every room with stored messages, and how many.
  std::vector<std::pair<std::string, std::int64_t>> room_counts() const;
  const std::string& path() const noexcept { return path_; }

 private:
  [[noreturn]] void fail(std::string_view what) const;
  void exec(const char* sql);
  void prune_in_transaction(const ChatRetention& retention, std::span<const std::string> rooms,
                            PrunedCounts& pruned);

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace duplex::apps
