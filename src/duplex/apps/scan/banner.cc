#include "duplex/apps/scan/banner.h"

namespace duplex::scan {

std::string escape_banner(std::string_view bytes, std::size_t max) {
  while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r')) bytes.remove_suffix(1);
  const bool cut = bytes.size() > max;
  if (cut) bytes = bytes.substr(0, max);
  std::string out;
  out.reserve(bytes.size() + 8);
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\r':
        out += "\\r";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      default:
        break;
    }
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace duplex::scan
