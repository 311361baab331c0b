#include "duplex/link/station_db.h"

#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "duplex/base/error.h"
#include "duplex/base/sqlite_statement.h"

namespace duplex::link {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS stations (
  dev        TEXT    NOT NULL,
  ip         TEXT    NOT NULL,
  mac        TEXT    NOT NULL,
  first_seen INTEGER NOT NULL,  -- microseconds since the Unix epoch
  last_seen  INTEGER NOT NULL,
  PRIMARY KEY (dev, ip, mac)
);
CREATE TABLE IF NOT EXISTS events (
  time    INTEGER NOT NULL,
  dev     TEXT    NOT NULL,
  kind    TEXT    NOT NULL,
  ip      TEXT    NOT NULL,
  mac     TEXT    NOT NULL,
  old_mac TEXT
);
)sql";

}  // namespace

StationDb::StationDb(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK)
    fail("cannot open");
  sqlite3_busy_timeout(db_, 2000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec(kSchema);
}

StationDb::~StationDb() { sqlite3_close(db_); }

void StationDb::fail(std::string_view what) {
  std::string message = std::string(what) + " the station database " + path_ + ": " +
                        (db_ ? sqlite3_errmsg(db_) : "out of memory") +
                        "; choose another file with --db";
  if (db_) {
    sqlite3_close(db_);
    db_ = nullptr;
  }
  throw Error(message);
}

void StationDb::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("cannot use the station database " + path_ + ": " + message +
                "; choose another file with --db");
  }
}

std::string StationDb::default_path() {
  namespace fs = std::filesystem;
  fs::path dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg == '/') {
    dir = fs::path(xdg) / "duplex";
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = fs::path(home) / ".local" / "share" / "duplex";
  } else {
    throw Error(
        "no place for the station database: neither XDG_DATA_HOME nor HOME is set; "
        "choose a file with --db");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error("cannot create " + dir.string() + ": " + ec.message() +
                "; choose a file with --db");
  return (dir / "arpwatch.db").string();
}

std::vector<Station> StationDb::history(std::string_view dev, const inet::Address& ip) {
  SqliteStatement q(db_,
                    "SELECT mac, first_seen, last_seen FROM stations WHERE dev = ?1 AND ip = ?2 "
                    "ORDER BY last_seen DESC, rowid DESC");
  q.text(1, dev).text(2, ip.to_string());
  std::vector<Station> out;
  while (q.step() == SQLITE_ROW) {
    auto mac = MacAddress::try_parse(q.column_text(0));
    if (!mac) continue;  // written by something else; not ours to judge
    out.push_back(Station{ip, *mac, q.column_int(1), q.column_int(2)});
  }
  return out;
}

void StationDb::touch(std::string_view dev, const inet::Address& ip, const MacAddress& mac,
                      std::int64_t now) {
  SqliteStatement q(db_,
                    "INSERT INTO stations (dev, ip, mac, first_seen, last_seen) "
                    "VALUES (?1, ?2, ?3, ?4, ?4) "
                    "ON CONFLICT (dev, ip, mac) DO UPDATE SET last_seen = max(last_seen, ?4)");
  q.text(1, dev).text(2, ip.to_string()).text(3, mac.to_string()).integer(4, now);
  if (q.step() != SQLITE_DONE) fail("cannot write to");
}

void StationDb::log_event(std::int64_t time, std::string_view dev, std::string_view kind,
                          const inet::Address& ip, const MacAddress& mac,
                          const MacAddress* old_mac) {
  SqliteStatement q(
      db_,
      "INSERT INTO events (time, dev, kind, ip, mac, old_mac) VALUES (?1, ?2, ?3, ?4, ?5, "
      "?6)");
  q.integer(1, time).text(2, dev).text(3, kind).text(4, ip.to_string()).text(5, mac.to_string());
  if (old_mac)
    q.text(6, old_mac->to_string());
  else
    q.null(6);
  if (q.step() != SQLITE_DONE) fail("cannot write to");
}

std::size_t StationDb::station_count() {
  SqliteStatement q(db_, "SELECT count(*) FROM stations");
  return q.step() == SQLITE_ROW ? static_cast<std::size_t>(q.column_int(0)) : 0;
}

std::size_t StationDb::event_count() {
  SqliteStatement q(db_, "SELECT count(*) FROM events");
  return q.step() == SQLITE_ROW ? static_cast<std::size_t>(q.column_int(0)) : 0;
}

}  // namespace duplex::link
