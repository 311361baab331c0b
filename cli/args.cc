#include "args.h"

#include <algorithm>
#include <functional>
#include <iostream>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"

namespace duplex::cli {

Args::Args(std::string_view command, std::span<char* const> argv, std::vector<Option> options)
    : command_(command), options_(std::move(options)) {
  auto find_long = [&](std::string_view name) -> const Option* {
    for (const auto& o : options_)
      if (o.long_name == name) return &o;
    return nullptr;
  };
  auto find_short = [&](char c) -> const Option* {
    for (const auto& o : options_)
      if (o.short_name == c) return &o;
    return nullptr;
  };
  bool only_positionals = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    std::string_view word = argv[i];
    if (only_positionals || word == "-" || word.size() < 2 || word[0] != '-' ||
        (word[1] >= '0' && word[1] <= '9' && !find_short(word[1]))) {
      positionals_.emplace_back(word);
      continue;
    }
    if (word == "--") {
      only_positionals = true;
      continue;
    }
    if (word == "--help" || word == "-h") {
      help_ = true;
      continue;
    }
    const Option* opt = nullptr;
    std::optional<std::string> inline_value;
    std::string shown(word);
    if (word.starts_with("--")) {
      std::string_view name = word.substr(2);
      if (auto eq = name.find('='); eq != std::string_view::npos) {
        inline_value = std::string(name.substr(eq + 1));
        name = name.substr(0, eq);
        shown = "--" + std::string(name);
      }
      opt = find_long(name);
    } else if (word.size() == 2) {
      opt = find_short(word[1]);
    } else {
      i = take_bundle(argv, i, find_short, find_long);
      continue;
    }
    if (!opt) fail("unknown option " + shown);
    std::string value;
    if (opt->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        fail(shown + " needs a value");
      }
    } else if (inline_value) {
      fail(shown + " takes no value");
    }
    given_.emplace_back(std::string(opt->long_name), std::move(value));
  }
}

std::size_t Args::take_bundle(std::span<char* const> argv, std::size_t i,
                              const std::function<const Option*(char)>& find_short,
                              const std::function<const Option*(std::string_view)>& find_long) {
  // Short flags bundled as getopt reads them: -lvnp 9000, -vz, -w5. Only the last flag
  // of a bundle may take a value: the rest of the word, or else the next word.
  const std::string_view word = argv[i];
  for (std::size_t j = 1; j < word.size(); ++j) {
    const char c = word[j];
    if (c == 'h') {
      help_ = true;
      continue;
    }
    const Option* opt = find_short(c);
    if (!opt) {
      const bool long_meant = find_long(word.substr(1)) != nullptr;
      fail("unknown option -" + std::string(1, c) + " in " + std::string(word) +
           (long_meant ? " (did you mean -" + std::string(word) + "?)" : ""));
    }
    if (!opt->takes_value) {
      given_.emplace_back(std::string(opt->long_name), std::string());
      continue;
    }
    std::string value(word.substr(j + 1));
    if (value.empty()) {
      if (i + 1 >= argv.size())
        fail("-" + std::string(1, c) + " (in " + std::string(word) + ") needs a value");
      value = argv[++i];
    }
    given_.emplace_back(std::string(opt->long_name), std::move(value));
    break;
  }
  return i;
}

bool Args::has(std::string_view long_name) const {
  return std::any_of(given_.begin(), given_.end(),
                     [&](const auto& g) { return g.first == long_name; });
}

std::optional<std::string> Args::value(std::string_view long_name) const {
  std::optional<std::string> last;  // the last one given wins, as in most tools
  for (const auto& g : given_)
    if (g.first == long_name) last = g.second;
  return last;
}

std::optional<std::uint64_t> Args::number(std::string_view long_name, std::uint64_t lo,
                                          std::uint64_t hi) const {
  auto text = value(long_name);
  if (!text) return std::nullopt;
  auto n = parse_uint(*text, hi);
  if (!n || *n < lo)
    fail("--" + std::string(long_name) + " " + quote(*text) + " must be a whole number from " +
         std::to_string(lo) + " to " + std::to_string(hi));
  return n;
}

void Args::expand_stdin() {
  std::vector<std::string> out;
  std::vector<std::size_t> lines;
  for (auto& p : positionals_) {
    if (p != "-") {
      out.push_back(std::move(p));
      lines.push_back(0);
      continue;
    }
    std::string line;
    for (std::size_t number = 1; std::getline(std::cin, line); ++number) {
      std::string_view item = line;
      if (auto hash = item.find('#'); hash != std::string_view::npos) item = item.substr(0, hash);
      item = trim(item);
      if (item.empty()) continue;
      out.emplace_back(item);
      lines.push_back(number);
    }
  }
  positionals_ = std::move(out);
  lines_ = std::move(lines);
}

int Args::each_positional(const std::function<void(const std::string&)>& fn) const {
  int status = 0;
  for (std::size_t i = 0; i < positionals_.size(); ++i) {
    try {
      fn(positionals_[i]);
    } catch (const ParseError& e) {
      std::cout.flush();  // the good items before it stay before it
      std::cerr << command_ << ": ";
      if (i < lines_.size() && lines_[i] != 0) std::cerr << "line " << lines_[i] << ": ";
      std::cerr << e.what() << '\n';
      status = 2;
    }
  }
  return status;
}

void Args::expect_positionals(std::size_t min, std::size_t max, std::string_view what) const {
  if (positionals_.empty() && min > 0) fail("missing " + std::string(what));
  if (positionals_.size() < min)  // name what was given, so the message fits one missing word
    fail("missing an argument: expected " + std::string(what) + ", but only " +
         (positionals_.size() == 1 ? quote(positionals_[0]) + " was"
                                   : std::to_string(positionals_.size()) + " were") +
         " given");
  if (positionals_.size() > max)
    fail("unexpected argument " + quote(positionals_[max]) + " (expected " + std::string(what) +
         ")");
}

void Args::fail(const std::string& message) const {
  throw UsageError(message + "; see '" + command_ + " --help'");
}

}  // namespace duplex::cli
