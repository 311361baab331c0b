// Public. A conversation's key, the same for both directions: the two endpoints (address
// and port) in a fixed order, the lower address first (and on a tie the lower port), as
// tcpdump orders them to track TCP sequence numbers. `reversed` says whether the packet
// went from the second endpoint to the first.
#pragma once

#include <compare>
#include <cstdint>

#include "duplex/apps/capture/chain.h"
#include "duplex/inet/address.h"

namespace duplex::capture {

struct ConversationKey {
  inet::Address first;
  inet::Address second;
  std::uint16_t first_port = 0;
  std::uint16_t second_port = 0;
  std::uint8_t protocol = 0;  // TCP, UDP...
  friend auto operator<=>(const ConversationKey&, const ConversationKey&) = default;
};

struct Directed {
  ConversationKey key;
  bool reversed = false;  // the packet went from `second` to `first`
};

inline Directed conversation_of(const inet::Address& source, std::uint16_t source_port,
                                const inet::Address& destination, std::uint16_t destination_port,
                                std::uint8_t protocol) noexcept {
  const auto order = source <=> destination;
  const bool reversed = order > 0 || (order == 0 && source_port > destination_port);
  if (reversed) return {{destination, source, destination_port, source_port, protocol}, true};
  return {{source, destination, source_port, destination_port, protocol}, false};
}

// The conversation of a packet with a network header; ports are 0 without TCP or UDP.
inline Directed conversation_of(const DecodedPacket& p) noexcept {
  return conversation_of(*p.source(), p.source_port(), *p.destination(), p.destination_port(),
                         p.ip_protocol);
}

}  // namespace duplex::capture
