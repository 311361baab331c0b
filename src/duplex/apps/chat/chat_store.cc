#include "duplex/apps/chat/chat_store.h"

#include <sqlite3.h>

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <vector>

#include "duplex/base/error.h"
#include "duplex/base/sqlite_statement.h"

namespace duplex::apps {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS messages (
  id    INTEGER PRIMARY KEY,
  room  TEXT    NOT NULL,
  name  TEXT    NOT NULL,
  text  TEXT    NOT NULL,
  ts_ms INTEGER NOT NULL,  -- commit time, milliseconds since the Unix epoch
  via   TEXT    NOT NULL   -- tcp, websocket, http
);
CREATE INDEX IF NOT EXISTS messages_room_id ON messages (room, id);
)sql";

constexpr std::string_view kFix = "; choose another with --db PATH";

std::string lower_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "12 MiB", "512 KiB": floor, for the disk guard's message.
std::string size_text(std::uint64_t bytes) {
  if (bytes >= (std::uint64_t{1} << 30) && bytes % (std::uint64_t{1} << 30) == 0)
    return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (std::uint64_t{1} << 20)) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes >> 10) + " KiB";
}

}  // namespace

ChatStore::ChatStore(std::string path) : path_(std::move(path)) {
  const std::filesystem::path file(path_);
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec)
      throw Error("cannot create directory " + file.parent_path().string() + ": " +
                  lower_first(ec.message()) + std::string(kFix));
  }
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw Error("cannot open " + path_ + ": it is a directory" + std::string(kFix));
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK)
    fail("cannot open");
  try {
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec(kSchema);
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

ChatStore::~ChatStore() { sqlite3_close(db_); }

void ChatStore::fail(std::string_view what) const {
  std::string cause = db_ ? sqlite3_errmsg(db_) : "out of memory";
  const int err = db_ ? sqlite3_system_errno(db_) : 0;
  if (err == EACCES || err == EPERM)
    cause = "permission denied";
  else if (err == EROFS)
    cause = "read-only file system";
  else if (err == ENOSPC)
    cause = "no space left on device";
  else if (err != 0)
    cause = lower_first(std::strerror(err));
  throw Error(std::string(what) + " " + path_ + ": " + cause + std::string(kFix));
}

void ChatStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    sqlite3_free(message);
    fail("cannot open");
  }
}

void ChatStore::append(std::span<ChatMessage> messages, const ChatRetention& retention,
                       PrunedCounts* pruned) {
  if (messages.empty()) return;
  if (retention.min_free_bytes > 0) {
    // Refused before the disk fills: SQLite's own "database or disk is full" comes too late
    // for the rest of the machine.
    const std::uint64_t free = free_bytes();
    if (free < retention.min_free_bytes)
      throw Error("not stored: the disk holding " + path_ + " has " + size_text(free) +
                  " free, under --min-free " + size_text(retention.min_free_bytes));
  }
  auto rollback = [this] { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); };
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    fail("cannot write to");
  PrunedCounts deleted;
  try {
    SqliteStatement insert(
        db_, "INSERT INTO messages (room, name, text, ts_ms, via) VALUES (?,?,?,?,?)");
    std::set<std::string, std::less<>> rooms;
    for (auto& m : messages) {
      insert.text(1, m.room).text(2, m.name).text(3, m.text).integer(4, m.ts_ms).text(5, m.via);
      if (insert.step() != SQLITE_DONE) fail("cannot write to");
      m.id = sqlite3_last_insert_rowid(db_);
      insert.reset();
      rooms.insert(m.room);
    }
    const std::vector<std::string> touched(rooms.begin(), rooms.end());
    prune_in_transaction(retention, touched, deleted);
  } catch (...) {
    rollback();
    throw;
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    rollback();
    fail("cannot commit to");
  }
  if (pruned)
    for (const auto& [room, n] : deleted) (*pruned)[room] += n;
}

PrunedCounts ChatStore::prune(const ChatRetention& retention, bool every_room) {
  PrunedCounts deleted;
  if (retention.max_per_room <= 0 && retention.max_age.count() <= 0) return deleted;
  std::vector<std::string> rooms;
  if (every_room && retention.max_per_room > 0)
    for (auto& [room, count] : room_counts())
      if (count > retention.max_per_room) rooms.push_back(room);
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    fail("cannot write to");
  try {
    prune_in_transaction(retention, rooms, deleted);
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    fail("cannot commit to");
  }
  return deleted;
}

// Oldest first, at most kPruneBatch rows of each kind, so that lowering a cap on a large
// file costs many short transactions rather than one long one.
void ChatStore::prune_in_transaction(const ChatRetention& retention,
                                     std::span<const std::string> rooms, PrunedCounts& pruned) {
  auto count_rooms = [&](SqliteStatement& q) {
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) ++pruned[q.column_text(0)];
    if (rc != SQLITE_DONE) fail("cannot write to");
  };
  if (retention.max_per_room > 0) {
    SqliteStatement del(db_,
                        "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE room = ?1 "
                        "AND id <= (SELECT id FROM messages WHERE room = ?1 ORDER BY id DESC "
                        "LIMIT 1 OFFSET ?2) ORDER BY id LIMIT ?3) RETURNING room");
    for (const auto& room : rooms) {
      del.text(1, room).integer(2, retention.max_per_room).integer(3, kPruneBatch);
      count_rooms(del);
      del.reset();
    }
  }
  if (retention.max_age.count() > 0) {
    // ts_ms grows with id, so the first young row bounds the old ones: the scan stops there.
    const std::int64_t cutoff = now_ms() - retention.max_age.count();
    SqliteStatement del(db_,
                        "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE id < "
                        "coalesce((SELECT id FROM messages WHERE ts_ms >= ?1 ORDER BY id LIMIT 1), "
                        "9223372036854775807) ORDER BY id LIMIT ?2) RETURNING room");
    del.integer(1, cutoff).integer(2, kPruneBatch);
    count_rooms(del);
  }
}

std::int64_t ChatStore::last_id() const {
  SqliteStatement q(db_, "SELECT coalesce(max(id), 0) FROM messages");
  if (q.step() != SQLITE_ROW) fail("cannot read");
  return q.column_int(0);
}

std::uint64_t ChatStore::free_bytes() const {
  const std::filesystem::path file(path_);
  const std::string dir = file.has_parent_path() ? file.parent_path().string() : ".";
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return UINT64_MAX;  // unknown: do not refuse
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

std::vector<ChatMessage> ChatStore::recent(std::string_view room, std::size_t limit,
                                           std::int64_t max_id) const {
  SqliteStatement q(
      db_,
      "SELECT id, room, name, text, ts_ms, via FROM (SELECT * FROM messages WHERE room = ? "
      "AND id <= ? ORDER BY id DESC LIMIT ?) ORDER BY id");
  q.text(1, room).integer(2, max_id).integer(3, static_cast<std::int64_t>(limit));
  std::vector<ChatMessage> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(ChatMessage{q.column_int(0), q.column_text(1), q.column_text(2), q.column_text(3),
                              q.column_int(4), q.column_text(5)});
  }
  if (rc != SQLITE_DONE) fail("cannot read");
  return out;
}

std::vector<std::pair<std::string, std::int64_t>> ChatStore::room_counts() const {
  SqliteStatement q(db_, "SELECT room, COUNT(*) FROM messages GROUP BY room ORDER BY room");
  std::vector<std::pair<std::string, std::int64_t>> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.emplace_back(q.column_text(0), q.column_int(1));
  if (rc != SQLITE_DONE) fail("cannot read");
  return out;
}

}  // namespace duplex::apps
