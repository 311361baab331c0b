// Public. Service names for ports, from /etc/services (Debian's netbase): 22/tcp -> "ssh".
//
// Loaded once and read-only after: safe to share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "duplex/apps/scan/ports.h"

namespace duplex::scan {

class Services {
 public:
  Services() = default;
  // Reads a services(5) file; a missing file gives an empty table (names are a nicety).
  static Services load(const std::string& path = "/etc/services");
  // Reads services(5) text: "name port/protocol [aliases...] [# comment]" per line; lines
  // that do not fit are skipped, as getservent(3) skips them.
  static Services parse(std::string_view text);

  // The service's name, or "" when the file has none for it.
  std::string_view name(std::uint16_t port, Protocol protocol) const;
  std::size_t size() const noexcept { return names_.size(); }

 private:
  static std::uint32_t key(std::uint16_t port, Protocol p) noexcept {
    return (std::uint32_t{port} << 1) | (p == Protocol::udp ? 1u : 0u);
  }
  std::unordered_map<std::uint32_t, std::string> names_;
};

}  // namespace duplex::scan
