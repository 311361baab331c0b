// Public. A host's round-trip time, measured from its answers, and the probe timeout it
// gives: RFC 6298's estimator, as TCP and nmap use it. The first sample sets srtt = R and
// rttvar = R/2; each next one rttvar = 3/4 rttvar + 1/4 |srtt - R|, srtt = 7/8 srtt + 1/8 R.
// The timeout is srtt + 4 rttvar, clamped to [min, max]; before any sample it is `initial`.
// Only answers to first tries are samples (Karn): a retry's answer may belong to either try.
//
// A value; use it from one thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace duplex::scan {

struct RttLimits {
  std::chrono::microseconds initial{1'000'000};  // nmap's default initial RTT timeout
  std::chrono::microseconds min{100'000};        // nmap's --min-rtt-timeout
  std::chrono::microseconds max{3'000'000};
};

class RttEstimator {
 public:
  explicit RttEstimator(RttLimits limits = {}) noexcept : limits_(limits) {}

  void sample(std::chrono::microseconds rtt) noexcept;
  std::chrono::microseconds timeout() const noexcept;

  bool measured() const noexcept { return samples_ > 0; }
  std::uint64_t samples() const noexcept { return samples_; }
  std::chrono::microseconds srtt() const noexcept { return std::chrono::microseconds(srtt_); }
  std::chrono::microseconds rttvar() const noexcept { return std::chrono::microseconds(rttvar_); }

 private:
  RttLimits limits_;
  std::int64_t srtt_ = 0, rttvar_ = 0;  // microseconds
  std::uint64_t samples_ = 0;
};

}  // namespace duplex::scan
