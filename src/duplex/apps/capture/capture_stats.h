// Public. What --stats prints at the end of a capture: packets and bytes per protocol and per
// layer, the top talkers (by bytes sent), and the TCP conversations (handshake RTT,
// retransmissions seen, packets and payload bytes each way, how they ended).
//
//   14 packets, 1120 bytes in 0.012000 s
//   By layer:
//     L2 data link                  14 packets      1120 bytes
//   ...
//   TCP conversations:
//     10.0.0.1:40000 <-> 10.0.0.2:7000  handshake RTT 2.000 ms
//       10.0.0.1:40000 -> 7 packets, 12 bytes, 1 retransmission, FIN
//
// Bytes are the packets' lengths on the wire. Used from one thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "duplex/apps/capture/chain.h"
#include "duplex/apps/capture/line_output.h"
#include "duplex/apps/capture/tcp_tracker.h"
#include "duplex/inet/address.h"

namespace duplex::capture {

struct Tally {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  void add(std::uint64_t length) noexcept {
    ++packets;
    bytes += length;
  }
};

class CaptureStats {
 public:
  static constexpr std::size_t kTopTalkers = 10;
  static constexpr std::size_t kMaxTalkers = 100000;  // addresses past it are not counted

  void add(const DecodedPacket& packet, Timestamp time);
  std::string report() const;

  const Tally& total() const noexcept { return total_; }
  const Tally& protocol(Protocol p) const noexcept {
    return protocols_[static_cast<std::size_t>(p)];
  }
  const Tally& layer(dissect::Layer l) const noexcept;
  const TcpTracker& tcp() const noexcept { return tcp_; }

 private:
  Tally total_;
  std::array<Tally, kProtocolCount> protocols_{};
  std::array<Tally, 4> layers_{};  // link, network, transport, application
  std::map<inet::Address, Tally> talkers_;
  TcpTracker tcp_;
  double first_ = 0, last_ = 0;
};

}  // namespace duplex::capture
