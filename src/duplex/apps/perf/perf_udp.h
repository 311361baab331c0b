// Public. iperf3's UDP data streams, without sockets: the datagram header, the hello that
// opens a stream, and what the receiver measures (loss, reordering, jitter).
//
// Every datagram starts with the sender's clock and a sequence number counted from 1, all
// big-endian: seconds (32 bits), microseconds (32 bits), then the sequence number in 32 bits,
// or 64 with the udp_counters_64bit parameter. The rest of the datagram is padding.
//
// The client opens a UDP stream by sending 4 bytes to the server's port from the stream's
// socket; the server connects a socket to that peer and answers with 4 bytes. iperf3 3.12
// sends "9876" and answers "6789" (older versions sent the numbers 123456789 and 987654321
// in host order); any 4 bytes are taken, as iperf3 does.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace duplex::apps::perf {

inline constexpr std::string_view kUdpHello = "9876";
inline constexpr std::string_view kUdpHelloReply = "6789";

struct UdpHeader {
  std::uint32_t sec = 0;
  std::uint32_t usec = 0;
  std::uint64_t sequence = 0;
};

// 12 bytes, or 16 with 64-bit counters.
inline constexpr std::size_t udp_header_size(bool counters_64bit) noexcept {
  return counters_64bit ? 16 : 12;
}
// The steady clock as iperf3's UDP header carries it.
UdpHeader udp_header_now(std::uint64_t sequence) noexcept;
// Writes the header at the start of `out` (at least udp_header_size bytes).
void encode_udp_header(const UdpHeader& h, bool counters_64bit, char* out) noexcept;
// nullopt when the datagram is shorter than the header.
std::optional<UdpHeader> decode_udp_header(std::string_view datagram, bool counters_64bit) noexcept;

// The receiving side of one UDP stream, counting as iperf3 does, so that both tools report
// the same numbers for the same datagrams:
//  - a sequence number past the highest seen + 1 counts the gap as lost;
//  - one at or below the highest seen is out of order, and takes one back from the lost;
//  - jitter is RFC 3550's (A.8): the mean deviation of the transit time's change, smoothed
//    by 1/16, where transit = arrival (our clock) - send time (the sender's clock); the
//    clocks need not agree, only tick at the same rate.
class UdpReceiveStats {
 public:
  // arrival_seconds: our clock when the datagram arrived (any epoch, steady).
  void on_datagram(const UdpHeader& h, double arrival_seconds) noexcept;

  std::uint64_t highest_sequence() const noexcept { return highest_; }
  std::int64_t lost() const noexcept { return lost_; }
  std::uint64_t out_of_order() const noexcept { return out_of_order_; }
  double jitter_seconds() const noexcept { return jitter_; }
  std::uint64_t datagrams() const noexcept { return datagrams_; }

 private:
  std::uint64_t highest_ = 0;
  std::int64_t lost_ = 0;
  std::uint64_t out_of_order_ = 0;
  std::uint64_t datagrams_ = 0;
  double jitter_ = 0;
  double previous_transit_ = 0;
};

}  // namespace duplex::apps::perf
