#include "duplex/base/dissect.h"

#include <cstdio>

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
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

std::string to_string(const Problem& problem) {
  if (!problem) return {};
  const char* kind = problem.kind == Problem::Kind::truncated ? "truncated" : "malformed";
  return std::string(kind) + " at byte " + std::to_string(problem.at) +
         " of the header: " + problem.what;
}

std::string decimal(std::uint64_t value) { return std::to_string(value); }

}  // namespace duplex::dissect
