// Public. The --flow picture: the exchange as a ladder (sequence) diagram in text, one
// column per host, one arrow per packet, as Wireshark's flow graph draws it. ARP requests
// and replies, TCP segments (flags, sequence and acknowledgment numbers relative to each
// side's first, payload length; a retransmission marked), UDP, DNS and ICMP messages:
//
//   time (s)   10.0.0.1                    10.0.0.2
//    0.000000  |--ARP who-has 10.0.0.2----->|
//    0.000100  |<-ARP 10.0.0.2 is-at 02:00--|
//    0.000200  |--40000→7000 [SYN] seq=0--->|
//
// Bounded: at most kMaxHosts columns (the rest share the last, "other") and kMaxArrows
// arrows (the rest are counted). Used from one thread, over the packets in their order.
// step() gives one packet's arrow without keeping it: the dashboard's Capture page draws
// the same ladder in SVG from the arrows it sends with each packet.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "duplex/apps/capture/chain.h"
#include "duplex/apps/capture/line_output.h"
#include "duplex/apps/capture/tcp_tracker.h"

namespace duplex::capture {

// One packet's arrow: between two hosts (the same for loopback), with its label.
struct FlowStep {
  std::string from, to, label;
};

class FlowDiagram {
 public:
  static constexpr std::size_t kMaxHosts = 6;
  static constexpr std::size_t kMaxArrows = 10000;

  void add(const DecodedPacket& packet, std::span<const std::uint8_t> bytes, Timestamp time);
  // The packet's arrow (its TCP sequence numbers relative to what came before), nullopt
  // for a packet that is neither ARP nor IP; kept out of render().
  std::optional<FlowStep> step(const DecodedPacket& packet, std::span<const std::uint8_t> bytes,
                               Timestamp time);
  std::string render() const;

 private:
  struct Arrow {
    double time = 0;
    std::size_t from = 0, to = 0;
    std::string label;
  };
  std::size_t column(const std::string& host);

  std::vector<std::string> hosts_;
  std::vector<Arrow> arrows_;
  std::uint64_t left_out_ = 0;
  double start_ = -1;
  TcpTracker tcp_;
};

}  // namespace duplex::capture
