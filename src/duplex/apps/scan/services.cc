#include "duplex/apps/scan/services.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace duplex::scan {

Services Services::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

Services Services::parse(std::string_view text) {
  Services out;
  while (!text.empty()) {
    const std::size_t eol = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(std::min(eol + 1, text.size()));
    line = line.substr(0, std::min(line.find('#'), line.size()));
    const std::size_t name_end = line.find_first_of(" \t");
    if (name_end == std::string_view::npos || name_end == 0) continue;
    const std::string_view name = line.substr(0, name_end);
    const std::size_t spec_start = line.find_first_not_of(" \t", name_end);
    if (spec_start == std::string_view::npos) continue;
    std::string_view spec = line.substr(spec_start);
    spec = spec.substr(0, std::min(spec.find_first_of(" \t\r"), spec.size()));
    const std::size_t slash = spec.find('/');
    if (slash == std::string_view::npos) continue;
    unsigned port = 0;
    auto [end, ec] = std::from_chars(spec.data(), spec.data() + slash, port);
    if (ec != std::errc{} || end != spec.data() + slash || port == 0 || port > 65535) continue;
    const std::string_view proto = spec.substr(slash + 1);
    Protocol p;
    if (proto == "tcp") {
      p = Protocol::tcp;
    } else if (proto == "udp") {
      p = Protocol::udp;
    } else {
      continue;
    }
    // The first line for a port wins, as getservbyport(3) answers.
    out.names_.try_emplace(key(static_cast<std::uint16_t>(port), p), name);
  }
  return out;
}

std::string_view Services::name(std::uint16_t port, Protocol protocol) const {
  const auto it = names_.find(key(port, protocol));
  return it == names_.end() ? std::string_view{} : std::string_view(it->second);
}

}  // namespace duplex::scan
