// Public. What `duplex scan --banner` does with a service's first bytes.
#pragma once

#include <string>
#include <string_view>

namespace duplex::scan {

// The request sent to a service that stays silent: the smallest valid HTTP/1.0 request,
// which a web server answers with a status line and headers.
inline constexpr std::string_view kHttpProbe = "GET / HTTP/1.0\r\n\r\n";

// A banner safe to print on a terminal: printable ASCII as it is, \r \n \t and '\' as C
// escapes, every other byte (controls, ESC, non-ASCII) as \xHH; at most `max` bytes of
// input, then "...". Trailing line ends are dropped.
std::string escape_banner(std::string_view bytes, std::size_t max = 160);

}  // namespace duplex::scan
