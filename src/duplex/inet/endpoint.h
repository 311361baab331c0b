// Public. A transport endpoint: an IP address and a port, "192.0.2.1:80" or "[2001:db8::1]:443".
//
// The bridge between duplex's values and the socket API: to_sockaddr() fills what bind(),
// connect() and sendto() take; from_sockaddr() reads what accept() and recvfrom() return.
// IPv6 needs brackets (RFC 3986): "2001:db8::1:80" would be ambiguous.
//
// An IPv6 endpoint may carry a scope, the interface a link-local address is on
// ("[fe80::1%eth0]:80", RFC 4007 11): an Address has no interface (see address.h), but a
// socket needs one, so the endpoint keeps it as sin6_scope_id, both ways.
//
// All members are safe to call from any thread (it is a value).
#pragma once

#include <sys/socket.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/inet/address.h"

namespace duplex::inet {

class Endpoint {
 public:
  Endpoint() noexcept = default;
  // scope_id: an interface index for IPv6 (0: none); IPv4 has none.
  Endpoint(const Address& address, std::uint16_t port, std::uint32_t scope_id = 0) noexcept
      : address_(address), port_(port), scope_id_(address.is_v6() ? scope_id : 0) {}

  // "1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]:80". Throws duplex::ParseError with a one-line
  // reason.
  static Endpoint parse(std::string_view text);
  static std::optional<Endpoint> try_parse(std::string_view text) noexcept;
  // An address with an optional zone, "fe80::1%eth0" or "fe80::1%2" (an interface name or
  // index), and a port. Throws duplex::ParseError (no such interface, a zone on IPv4).
  static Endpoint parse_host(std::string_view address, std::uint16_t port);

  const Address& address() const noexcept { return address_; }
  std::uint16_t port() const noexcept { return port_; }
  // The interface index of a scoped IPv6 address (sin6_scope_id); 0 for none.
  std::uint32_t scope_id() const noexcept { return scope_id_; }

  // "1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]:80" (the interface's index once it is gone).
  std::string to_string() const;
  // The address and its zone, without the port: "fe80::1%eth0", "192.0.2.1".
  std::string host_string() const;

  // Fills `out` with a sockaddr_in or sockaddr_in6 and returns its length. Hot path: noexcept.
  socklen_t to_sockaddr(sockaddr_storage& out) const noexcept;
  // Reads an AF_INET or AF_INET6 socket address; nullopt for another family or a short length.
  static std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t len) noexcept;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend std::strong_ordering operator<=>(const Endpoint&, const Endpoint&) = default;

 private:
  Address address_;
  std::uint16_t port_ = 0;
  std::uint32_t scope_id_ = 0;
};

}  // namespace duplex::inet

template <>
struct std::hash<duplex::inet::Endpoint> {
  std::size_t operator()(const duplex::inet::Endpoint& e) const noexcept {
    return std::hash<duplex::inet::Address>{}(e.address()) * 65599 + e.port();
  }
};
