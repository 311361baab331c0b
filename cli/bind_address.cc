#include "bind_address.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string_view>

#include "duplex/base/error.h"

namespace duplex::cli {

inet::Address bind_address(const std::optional<std::string>& option) {
  if (option) {
    std::string_view s = *option;
    if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
    auto a = inet::Address::try_parse(s);
    if (!a)
      throw ParseError("--bind " + *option +
                       " is not an IPv4 or IPv6 address (e.g. 127.0.0.1, ::1)");
    return *a;
  }
  // Probe for IPv6 support: a kernel booted with ipv6.disable=1 refuses AF_INET6 sockets.
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return inet::Address::parse("0.0.0.0");
  ::close(fd);
  return inet::Address::parse("::");
}

}  // namespace duplex::cli
