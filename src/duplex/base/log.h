// Public. The library's log: one process-wide sink that the application may replace, and a
// level below which nothing is formatted.
//
//   log::error("chat", "commit failed: ", e.what());
//   -> 2026-12-04T16:02:11.123Z error chat: commit failed: disk I/O error   (default sink)
//
// The default sink writes each record as one line to stderr (one write(2), so lines of
// several processes sharing a terminal do not interleave), with an ISO-8601 UTC timestamp
// to the millisecond. Thread-safe: the sink is called under a mutex, one record at a time.
// Cheap when off: error()/warn()/info()/debug() test the level (one relaxed atomic load)
// before they join their arguments; nothing is allocated for a record that is off.
#pragma once

#include <chrono>
#include <concepts>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

// "error", "warn", "info", "debug".
std::string_view level_name(Level level) noexcept;
// The inverse of level_name (exact, lower case); nullopt for anything else.
std::optional<Level> parse_level(std::string_view text) noexcept;

// Records up to and including `level` are written; the default is warn.
void set_level(Level level) noexcept;
Level level() noexcept;
bool enabled(Level level) noexcept;

// Receives every record that is on. An empty function restores the default sink.
using Sink = std::function<void(Level level, std::string_view component, std::string_view message)>;
void set_sink(Sink sink);

// The default sink's line, without its newline:
// "2026-12-04T16:02:11.123Z error chat: commit failed: disk I/O error".
std::string format_line(std::chrono::system_clock::time_point when, Level level,
                        std::string_view component, std::string_view message);

// Hands one record to the sink if `level` is on.
void write(Level level, std::string_view component, std::string_view message);

namespace detail {
inline void append(std::string& out, std::string_view piece) { out.append(piece); }
inline void append(std::string& out, char c) { out.push_back(c); }
template <typename T>
requires std::integral<T> &&
    (!std::same_as<T, char>)&&(!std::same_as<T, bool>)void append(std::string& out, T n) {
  out.append(std::to_string(n));
}

template <typename... Pieces>
void record(Level level, std::string_view component, const Pieces&... pieces) {
  if (!enabled(level)) return;
  std::string message;
  (append(message, pieces), ...);
  write(level, component, message);
}
}  // namespace detail

// The message is the pieces joined (strings, characters, integers), built only when on.
template <typename... Pieces>
void error(std::string_view component, const Pieces&... pieces) {
  detail::record(Level::error, component, pieces...);
}
template <typename... Pieces>
void warn(std::string_view component, const Pieces&... pieces) {
  detail::record(Level::warn, component, pieces...);
}
template <typename... Pieces>
void info(std::string_view component, const Pieces&... pieces) {
  detail::record(Level::info, component, pieces...);
}
template <typename... Pieces>
void debug(std::string_view component, const Pieces&... pieces) {
  detail::record(Level::debug, component, pieces...);
}

}  // namespace duplex::log
