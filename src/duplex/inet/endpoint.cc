#include "duplex/inet/endpoint.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"

namespace duplex::inet {
namespace {

// A zone: an interface name ("eth0") or index ("2"), as RFC 4007 11.2 allows both.
std::uint32_t zone_index(std::string_view address, std::string_view zone) {
  if (auto n = parse_uint(zone, 0xffffffff); n && *n != 0) return static_cast<std::uint32_t>(*n);
  const std::string name(zone);
  const unsigned index = name.size() < IF_NAMESIZE ? ::if_nametoindex(name.c_str()) : 0;
  if (index == 0)
    throw ParseError(quote(address) + ": zone " + quote(zone) +
                     " names no network interface here (see `ip -brief link`)");
  return index;
}

}  // namespace

Endpoint Endpoint::parse_host(std::string_view text, std::uint16_t port) {
  const auto pct = text.find('%');
  if (pct == std::string_view::npos) return Endpoint(Address::parse(text), port);
  const Address a = Address::parse(text.substr(0, pct));
  if (!a.is_v6())
    throw ParseError(quote(text) + ": a zone (%" + std::string(text.substr(pct + 1)) +
                     ") is for IPv6 link-local addresses; drop it");
  if (pct + 1 == text.size())
    throw ParseError(quote(text) + ": an empty zone after '%'; name the interface (%eth0)");
  return Endpoint(a, port, zone_index(text, text.substr(pct + 1)));
}

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
  const Endpoint e = parse_host(host, static_cast<std::uint16_t>(*n));
  if (text.starts_with('[') && !e.address().is_v6())
    throw ParseError(q + " is not an endpoint: brackets are for IPv6; write " +
                     e.address().to_string() + ":" + std::string(port));
  return e;
}

std::optional<Endpoint> Endpoint::try_parse(std::string_view text) noexcept {
  try {
    return parse(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string Endpoint::host_string() const {
  if (scope_id_ == 0) return address_.to_string();
  char name[IF_NAMESIZE];
  const bool named = ::if_indextoname(scope_id_, name) != nullptr;
  return address_.to_string() + "%" + (named ? std::string(name) : std::to_string(scope_id_));
}

std::string Endpoint::to_string() const {
  const std::string port = std::to_string(port_);
  if (address_.is_v6()) return "[" + host_string() + "]:" + port;
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
  sin6.sin6_scope_id = scope_id_;
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
    return Endpoint(Address::v6(bytes), ntohs(sin6.sin6_port), sin6.sin6_scope_id);
  }
  return std::nullopt;
}

}  // namespace duplex::inet
