// Internal to the CLI. The --bind option of the server commands (echo, http serve).
#pragma once

#include <optional>
#include <string>

#include "duplex/inet/address.h"
#include "duplex/inet/endpoint.h"

namespace duplex::cli {

// The address from --bind ("127.0.0.1", "::1", "[::1]"), or, without one, [::] where the
// system has IPv6 (which also takes IPv4 peers) and 0.0.0.0 where it does not.
// Throws duplex::ParseError naming the option when the text is not an address.
inet::Address bind_address(const std::optional<std::string>& option);

// The same with `port`, and a zone for a link-local address ("fe80::1%eth0"), which the
// socket needs as its scope.
inet::Endpoint bind_endpoint(const std::optional<std::string>& option, std::uint16_t port);

}  // namespace duplex::cli
