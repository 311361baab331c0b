#include "duplex/apps/netcat/hex_dump.h"

#include <cstdio>

namespace duplex::apps {

std::string hex_dump(char direction, std::uint64_t offset, std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve((data.size() / 16 + 1) * 80);
  for (std::size_t line = 0; line < data.size(); line += 16) {
    char head[32];
    std::snprintf(head, sizeof head, "%c %08llx  ", direction,
                  static_cast<unsigned long long>(offset + line));
    out += head;
    std::string ascii;
    for (std::size_t i = 0; i < 16; ++i) {
      if (line + i < data.size()) {
        const auto b = static_cast<unsigned char>(data[line + i]);
        out += kHex[b >> 4];
        out += kHex[b & 0xf];
        out += ' ';
        ascii += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
      } else {
        out += "   ";
      }
      if (i == 7) out += ' ';
    }
    out += " |";
    out += ascii;
    out += "|\n";
  }
  return out;
}

}  // namespace duplex::apps
