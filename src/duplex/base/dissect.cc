#include "duplex/base/dissect.h"

namespace duplex::dissect {

std::string_view name(Layer layer) noexcept {
  switch (layer) {
    case Layer::link:
      return "link";
    case Layer::network:
      return "network";
    case Layer::transport:
      return "transport";
    case Layer::application:
      return "application";
  }
  return "unknown";
}

std::string_view heading(Layer layer) noexcept {
  switch (layer) {
    case Layer::link:
      return "L2 data link (OSI 2 / TCP-IP link)";
    case Layer::network:
      return "L3 network (OSI 3 / TCP-IP internet)";
    case Layer::transport:
      return "L4 transport (OSI 4 / TCP-IP transport)";
    case Layer::application:
      return "L7 application (OSI 5-7 / TCP-IP application)";
  }
  return "unknown layer";
}

std::string hex(std::uint64_t value, int digits) {
  // As printf's "0x%0*llx", without its cost (a packet's tree has many hex values).
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[16];
  std::size_t n = 0;
  do {
    buf[sizeof buf - 1 - n++] = kDigits[value & 0xf];
    value >>= 4;
  } while (value != 0);
  std::string out = "0x";
  const auto width = static_cast<std::size_t>(digits < 0 ? 0 : digits);
  if (width > n) out.append(width - n, '0');
  out.append(buf + sizeof buf - n, n);
  return out;
}

std::string to_string(const Problem& problem) {
  if (!problem) return {};
  const char* kind = problem.kind == Problem::Kind::truncated ? "truncated" : "malformed";
  return std::string(kind) + " at byte " + std::to_string(problem.at) +
         " of the header: " + problem.what;
}

std::string decimal(std::uint64_t value) { return std::to_string(value); }

}  // namespace duplex::dissect
