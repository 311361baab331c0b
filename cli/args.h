// Internal to the CLI. A small, strict command-line parser.
//
// Long options take `--name VALUE` or `--name=VALUE`; short ones `-c VALUE`, and bundle as
// getopt's do (`-lvnp 9000`, `-w5`). Anything unknown is a usage error (exit status 2) that
// names the option and points at --help.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::cli {

// A mistake in how the command was called: printed as one line, exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Option {
  std::string_view long_name;  // without the dashes: "json"
  char short_name = 0;         // 'c', or 0 for none
  bool takes_value = false;
};

class Args {
 public:
  // Parses argv (the words after the command's name). `command` is used in messages,
  // e.g. "duplex ip". `--help`/`-h` are always accepted.
  Args(std::string_view command, std::span<char* const> argv, std::vector<Option> options);

  bool help() const noexcept { return help_; }
  bool has(std::string_view long_name) const;
  std::optional<std::string> value(std::string_view long_name) const;
  // The value as an unsigned integer in [lo, hi]; a UsageError names the option otherwise.
  std::optional<std::uint64_t> number(std::string_view long_name, std::uint64_t lo,
                                      std::uint64_t hi) const;
  const std::vector<std::string>& positionals() const noexcept { return positionals_; }

  // Replaces each positional "-" with the non-empty lines of stdin (a '#' starts a comment),
  // so lists can be piped: `cat nets.txt | duplex ip aggregate -`.
  void expand_stdin();

  // Calls `fn` on each positional. A duplex::ParseError from one is reported as one line on
  // stderr that names the stdin line it came from ("duplex ip: line 3: ...") and the rest
  // still run, so a piped list loses nothing. Returns 0, or 2 when any of them failed.
  int each_positional(const std::function<void(const std::string&)>& fn) const;

  // Throws a UsageError unless min <= positionals <= max.
  void expect_positionals(std::size_t min, std::size_t max, std::string_view what) const;

  [[noreturn]] void fail(const std::string& message) const;

 private:
  // Reads the bundle of short flags argv[i] ("-lvnp"); returns the index of the last word
  // used (i + 1 when the bundle's last flag took the next word as its value).
  std::size_t take_bundle(std::span<char* const> argv, std::size_t i,
                          const std::function<const Option*(char)>& find_short,
                          const std::function<const Option*(std::string_view)>& find_long);

  std::string command_;
  std::vector<Option> options_;
  std::vector<std::pair<std::string, std::string>> given_;  // long name -> value
  std::vector<std::string> positionals_;
  std::vector<std::size_t> lines_;  // per positional: its stdin line number, 0 for argv
  bool help_ = false;
};

}  // namespace duplex::cli
