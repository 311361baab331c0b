#include "duplex/base/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <mutex>

namespace duplex::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::warn)};

struct SinkHolder {
  std::mutex mutex;
  Sink sink;  // empty: the default
};

SinkHolder& holder() {
  static SinkHolder h;  // never destroyed before a static's destructor that logs
  return h;
}

void to_stderr(Level level, std::string_view component, std::string_view message) {
  std::string line = format_line(std::chrono::system_clock::now(), level, component, message);
  line.push_back('\n');
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr gone: nothing better to do with a log line
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string_view level_name(Level level) noexcept {
  switch (level) {
    case Level::error:
      return "error";
    case Level::warn:
      return "warn";
    case Level::info:
      return "info";
    case Level::debug:
      return "debug";
  }
  return "?";
}

std::optional<Level> parse_level(std::string_view text) noexcept {
  for (Level l : {Level::error, Level::warn, Level::info, Level::debug})
    if (text == level_name(l)) return l;
  return std::nullopt;
}

void set_level(Level level) noexcept {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

Level level() noexcept { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

bool enabled(Level l) noexcept {
  return static_cast<int>(l) <= g_level.load(std::memory_order_relaxed);
}

void set_sink(Sink sink) {
  auto& h = holder();
  std::lock_guard lock(h.mutex);
  h.sink = std::move(sink);
}

std::string format_line(std::chrono::system_clock::time_point when, Level level,
                        std::string_view component, std::string_view message) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(when.time_since_epoch()).count();
  const auto secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char stamp[32];
  const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  const auto milli = static_cast<int>(((ms % 1000) + 1000) % 1000);
  std::string line(stamp, n);
  line.push_back('.');
  line.push_back(static_cast<char>('0' + milli / 100));
  line.push_back(static_cast<char>('0' + milli / 10 % 10));
  line.push_back(static_cast<char>('0' + milli % 10));
  line.append("Z ").append(level_name(level)).append(" ");
  line.append(component).append(": ").append(message);
  return line;
}

void write(Level level, std::string_view component, std::string_view message) {
  if (!enabled(level)) return;
  auto& h = holder();
  std::lock_guard lock(h.mutex);
  if (h.sink) {
    h.sink(level, component, message);
  } else {
    to_stderr(level, component, message);
  }
}

}  // namespace duplex::log
