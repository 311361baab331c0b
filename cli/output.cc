#include "output.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace duplex::cli {

bool colour_enabled() {
  static const bool enabled = [] {
    const char* no_colour = std::getenv("NO_COLOR");
    if (no_colour && *no_colour) return false;
    return isatty(STDOUT_FILENO) == 1;
  }();
  return enabled;
}

static std::string style(std::string_view code, std::string_view s) {
  if (!colour_enabled()) return std::string(s);
  std::string out = "\x1b[";
  out.append(code).append("m").append(s).append("\x1b[0m");
  return out;
}

std::string bold(std::string_view s) { return style("1", s); }
std::string dim(std::string_view s) { return style("2", s); }
std::string green(std::string_view s) { return style("32", s); }
std::string red(std::string_view s) { return style("31", s); }
std::string cyan(std::string_view s) { return style("36", s); }

// Invalid UTF-8 (a file name, a peer's text) becomes U+FFFD instead of an exception.
void print_json(const nlohmann::json& j) {
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace duplex::cli
