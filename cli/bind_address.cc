#include "bind_address.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string_view>

#include "duplex/base/error.h"

namespace duplex::cli {

namespace {

std::string_view unbracketed(std::string_view s) {
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  return s;
}

ParseError not_an_address(const std::string& option) {
  return ParseError("--bind " + option + " is not an IPv4 or IPv6 address (e.g. 127.0.0.1, ::1)");
}

}  // namespace

inet::Endpoint bind_endpoint(const std::optional<std::string>& option, std::uint16_t port) {
  if (!option) return inet::Endpoint(bind_address(option), port);
  const std::string_view s = unbracketed(*option);
  try {
    return inet::Endpoint::parse_host(s, port);
  } catch (const ParseError& e) {
    if (s.find('%') != std::string_view::npos) throw ParseError("--bind " + std::string(e.what()));
    throw not_an_address(*option);
  }
}

inet::Address bind_address(const std::optional<std::string>& option) {
  if (option) {
    auto a = inet::Address::try_parse(unbracketed(*option));
    if (!a) throw not_an_address(*option);
    return *a;
  }
  // Probe for IPv6 support: a kernel booted with ipv6.disable=1 refuses AF_INET6 sockets.
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return inet::Address::parse("0.0.0.0");
  ::close(fd);
  return inet::Address::parse("::");
}

}  // namespace duplex::cli
