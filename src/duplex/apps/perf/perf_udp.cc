#include "duplex/apps/perf/perf_udp.h"

#include <time.h>

#include <cmath>

#include "duplex/base/wire.h"

namespace duplex::apps::perf {
namespace {

void put_be32(unsigned char* p, std::uint32_t v) noexcept {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

}  // namespace

UdpHeader udp_header_now(std::uint64_t sequence) noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  UdpHeader h;
  h.sec = static_cast<std::uint32_t>(ts.tv_sec);
  h.usec = static_cast<std::uint32_t>(ts.tv_nsec / 1000);
  h.sequence = sequence;
  return h;
}

void encode_udp_header(const UdpHeader& h, bool counters_64bit, char* out) noexcept {
  auto* p = reinterpret_cast<unsigned char*>(out);
  put_be32(p, h.sec);
  put_be32(p + 4, h.usec);
  if (counters_64bit) {
    put_be32(p + 8, static_cast<std::uint32_t>(h.sequence >> 32));
    put_be32(p + 12, static_cast<std::uint32_t>(h.sequence));
  } else {
    put_be32(p + 8, static_cast<std::uint32_t>(h.sequence));
  }
}

std::optional<UdpHeader> decode_udp_header(std::string_view datagram,
                                           bool counters_64bit) noexcept {
  if (datagram.size() < udp_header_size(counters_64bit)) return std::nullopt;
  const auto* p = reinterpret_cast<const std::uint8_t*>(datagram.data());
  UdpHeader h;
  h.sec = wire::be32(p);
  h.usec = wire::be32(p + 4);
  if (counters_64bit) {
    h.sequence = (std::uint64_t{wire::be32(p + 8)} << 32) | wire::be32(p + 12);
  } else {
    h.sequence = wire::be32(p + 8);
  }
  return h;
}

void UdpReceiveStats::on_datagram(const UdpHeader& h, double arrival_seconds) noexcept {
  const bool first = datagrams_ == 0;
  ++datagrams_;
  if (h.sequence >= highest_ + 1) {
    if (h.sequence > highest_ + 1) lost_ += static_cast<std::int64_t>(h.sequence - 1 - highest_);
    highest_ = h.sequence;
  } else {
    // Late: it was counted lost when the gap opened (or it is a duplicate).
    ++out_of_order_;
    if (lost_ > 0) --lost_;
  }
  const double sent = h.sec + h.usec / 1e6;
  const double transit = arrival_seconds - sent;
  if (first) previous_transit_ = transit;
  const double d = std::fabs(transit - previous_transit_);
  previous_transit_ = transit;
  jitter_ += (d - jitter_) / 16.0;
}

}  // namespace duplex::apps::perf
