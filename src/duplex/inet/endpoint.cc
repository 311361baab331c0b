#include "duplex/inet/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"

namespace duplex::inet {

Endpoint Endpoint::parse(std::string_view text) {
  const std::string q = quote(text);
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos)
      throw ParseError(q + " is not an endpoint: '[' without a closing ']'");
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.starts_with(':') || rest.size() == 1)
      throw ParseError(q + " is not an endpoint: expected ':PORT' after ']'");
    port = rest.substr(1);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      throw ParseError(q + " is not an endpoint: no port; write ADDRESS:PORT, e.g. 192.0.2.1:80");
    if (text.find(':') != colon)
      throw ParseError(q + " is not an endpoint: an IPv6 address needs brackets, e.g. [::1]:80");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  const auto n = parse_uint(port, 65535);
  if (!n)
    throw ParseError(q + " is not an endpoint: port " + quote(port) +
                     " is not a number from 0 to 65535");
  const Address a = Address::parse(host);
  if (text.starts_with('[') && !a.is_v6())
    throw ParseError(q + " is not an endpoint: brackets are for IPv6; write " + a.to_string() +
                     ":" + std::string(port));
  return Endpoint(a, static_cast<std::uint16_t>(*n));
}

std::optional<Endpoint> Endpoint::try_parse(std::string_view text) noexcept {
  try {
    return parse(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string Endpoint::to_string() const {
  const std::string port = std::to_string(port_);
  if (address_.is_v6()) return "[" + address_.to_string() + "]:" + port;
  return address_.to_string() + ":" + port;
}

socklen_t Endpoint::to_sockaddr(sockaddr_storage& out) const noexcept {
  std::memset(&out, 0, sizeof out);
  if (address_.is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port_);
    std::memcpy(&sin.sin_addr, address_.data(), 4);
    std::memcpy(&out, &sin, sizeof sin);
    return sizeof sin;
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port_);
  std::memcpy(&sin6.sin6_addr, address_.data(), 16);
  std::memcpy(&out, &sin6, sizeof sin6);
  return sizeof sin6;
}

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) noexcept {
  if (sa == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t))) return std::nullopt;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    return Endpoint(Address::v4(ntohl(sin.sin_addr.s_addr)), ntohs(sin.sin_port));
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &sin6.sin6_addr, 16);
    return Endpoint(Address::v6(bytes), ntohs(sin6.sin6_port));
  }
  return std::nullopt;
}

}  // namespace duplex::inet
