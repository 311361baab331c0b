#include "duplex/apps/scan/ports.h"

#include <bitset>
#include <charconv>
#include <string>

#include "duplex/base/error.h"

namespace duplex::scan {
namespace {

std::uint16_t parse_port(std::string_view word, std::string_view list) {
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (word.empty() || end != word.data() + word.size()) {
    const std::string where = word == list ? "" : "'" + std::string(list) + "': ";
    throw ParseError(where + "'" + std::string(word) +
                     "' is not a port; write ports and ranges as 22,80,8000-8100");
  }
  if (ec == std::errc::result_out_of_range || value > 65535) {
    throw ParseError("port " + std::string(word) + " is above 65535, the highest TCP/UDP port");
  }
  if (value == 0) {
    throw ParseError("port 0 cannot be scanned (connect() refuses it); start at 1");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::vector<std::uint16_t> parse_ports(std::string_view text) {
  if (text.empty()) throw ParseError("an empty port list; write 22,80,443 or 1-1024 or -");
  std::vector<std::uint16_t> out;
  std::bitset<65536> seen;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view word = text.substr(start, comma - start);
    if (word.empty()) {
      throw ParseError("'" + std::string(text) + "' has an empty item; write 22,80,443");
    }
    std::uint16_t lo = 0, hi = 0;
    if (const auto dash = word.find('-'); dash != std::string_view::npos) {
      const std::string_view a = word.substr(0, dash), b = word.substr(dash + 1);
      lo = a.empty() ? 1 : parse_port(a, text);
      hi = b.empty() ? 65535 : parse_port(b, text);
      if (hi < lo) {
        throw ParseError("'" + std::string(word) + "' is a backwards range: write " +
                         std::to_string(hi) + "-" + std::to_string(lo));
      }
    } else {
      lo = hi = parse_port(word, text);
    }
    for (unsigned p = lo; p <= hi; ++p) {
      if (!seen.test(p)) {
        seen.set(p);
        out.push_back(static_cast<std::uint16_t>(p));
      }
    }
    start = comma + 1;
  }
  return out;
}

std::size_t top_ports_available(Protocol protocol) noexcept {
  return protocol == Protocol::tcp ? top_tcp_ports().size() : top_udp_ports().size();
}

std::vector<std::uint16_t> top_ports(Protocol protocol, std::size_t n) {
  const auto table = protocol == Protocol::tcp ? top_tcp_ports() : top_udp_ports();
  if (n == 0 || n > table.size()) {
    throw ParseError("--top " + std::to_string(n) + ": give 1 to " + std::to_string(table.size()) +
                     " (for more, give -p- or a range)");
  }
  return {table.begin(), table.begin() + static_cast<std::ptrdiff_t>(n)};
}

}  // namespace duplex::scan
