// Public. A transport endpoint: an IP address and a port, "192.0.2.1:80" or "[2001:db8::1]:443".
//
// The bridge between duplex's values and the socket API: to_sockaddr() fills what bind(),
// connect() and sendto() take; from_sockaddr() reads what accept() and recvfrom() return.
// IPv6 needs brackets (RFC 3986): "2001:db8::1:80" would be ambiguous. Zone ids are not
// kept (see address.h), so a link-local peer's sin6_scope_id is not carried over.
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
  Endpoint(const Address& address, std::uint16_t port) noexcept : address_(address), port_(port) {}

  // "1.2.3.4:80", "[::1]:80". Throws duplex::ParseError with a one-line reason.
  static Endpoint parse(std::string_view text);
  static std::optional<Endpoint> try_parse(std::string_view text) noexcept;

  const Address& address() const noexcept { return address_; }
  std::uint16_t port() const noexcept { return port_; }

  std::string to_string() const;

  // Fills `out` with a sockaddr_in or sockaddr_in6 and returns its length. Hot path: noexcept.
  socklen_t to_sockaddr(sockaddr_storage& out) const noexcept;
  // Reads an AF_INET or AF_INET6 socket address; nullopt for another family or a short length.
  static std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t len) noexcept;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend std::strong_ordering operator<=>(const Endpoint&, const Endpoint&) = default;

 private:
  Address address_;
  std::uint16_t port_ = 0;
};

}  // namespace duplex::inet

template <>
struct std::hash<duplex::inet::Endpoint> {
  std::size_t operator()(const duplex::inet::Endpoint& e) const noexcept {
    return std::hash<duplex::inet::Address>{}(e.address()) * 65599 + e.port();
  }
};
