#include "duplex/apps/chat/chat_store.h"

#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

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

void ChatStore::append(std::span<ChatMessage> messages) {
  if (messages.empty()) return;
  auto rollback = [this] { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); };
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    fail("cannot write to");
  try {
    SqliteStatement insert(
        db_, "INSERT INTO messages (room, name, text, ts_ms, via) VALUES (?,?,?,?,?)");
    for (auto& m : messages) {
      insert.text(1, m.room).text(2, m.name).text(3, m.text).integer(4, m.ts_ms).text(5, m.via);
      if (insert.step() != SQLITE_DONE) fail("cannot write to");
      m.id = sqlite3_last_insert_rowid(db_);
      insert.reset();
    }
  } catch (...) {
    rollback();
    throw;
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    rollback();
    fail("cannot commit to");
  }
}

std::vector<ChatMessage> ChatStore::recent(std::string_view room, std::size_t limit) const {
  SqliteStatement q(
      db_,
      "SELECT id, room, name, text, ts_ms, via FROM (SELECT * FROM messages WHERE room = ? "
      "ORDER BY id DESC LIMIT ?) ORDER BY id");
  q.text(1, room).integer(2, static_cast<std::int64_t>(limit));
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
