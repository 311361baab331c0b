// Public. The ARP watch's station database: which MAC addresses have claimed which IPv4
// address on which interface, and when, kept in SQLite so that it survives restarts (as
// arpwatch's arp.dat does), plus a log of the events reported.
//
// One object owns one connection; use it from one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/inet/address.h"
#include "duplex/link/mac_address.h"

struct sqlite3;

namespace duplex::link {

struct Station {
  inet::Address ip;
  MacAddress mac;
  std::int64_t first_seen = 0;  // microseconds since the Unix epoch
  std::int64_t last_seen = 0;
};

class StationDb {
 public:
  // Opens or creates the database at `path` (":memory:" for one that lives with the
  // object). Throws duplex::Error naming the file and SQLite's reason.
  explicit StationDb(const std::string& path);
  ~StationDb();
  StationDb(const StationDb&) = delete;
  StationDb& operator=(const StationDb&) = delete;

  // $XDG_DATA_HOME/duplex/arpwatch.db, else ~/.local/share/duplex/arpwatch.db; creates the
  // directory. Throws duplex::Error when there is no home to put it in.
  static std::string default_path();

  const std::string& path() const noexcept { return path_; }

  // Every MAC seen for `ip` on `dev`, the most recently seen first.
  std::vector<Station> history(std::string_view dev, const inet::Address& ip);
  // Records that `mac` claimed `ip` on `dev` at `now` (first_seen set once).
  void touch(std::string_view dev, const inet::Address& ip, const MacAddress& mac,
             std::int64_t now);
  // Appends to the event log.
  void log_event(std::int64_t time, std::string_view dev, std::string_view kind,
                 const inet::Address& ip, const MacAddress& mac, const MacAddress* old_mac);
  std::size_t station_count();
  std::size_t event_count();

 private:
  void exec(const char* sql);
  [[noreturn]] void fail(std::string_view what);

  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace duplex::link
