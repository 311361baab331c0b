// Internal to the CLI. How commands print: colour only on a terminal and never under
// NO_COLOR; JSON as one object per line.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace duplex::cli {

// True when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
bool colour_enabled();

// ANSI styling that collapses to the plain text when colour is off.
std::string bold(std::string_view s);
std::string dim(std::string_view s);
std::string green(std::string_view s);
std::string red(std::string_view s);
std::string cyan(std::string_view s);

// Prints `j` as one line of JSON on stdout.
void print_json(const nlohmann::json& j);

}  // namespace duplex::cli
