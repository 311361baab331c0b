#include "duplex/apps/scan/rtt.h"

#include <algorithm>
#include <cstdlib>

namespace duplex::scan {

void RttEstimator::sample(std::chrono::microseconds rtt) noexcept {
  const std::int64_t r = std::max<std::int64_t>(rtt.count(), 0);
  if (samples_++ == 0) {
    srtt_ = r;
    rttvar_ = r / 2;
    return;
  }
  rttvar_ = (3 * rttvar_ + std::llabs(srtt_ - r)) / 4;
  srtt_ = (7 * srtt_ + r) / 8;
}

std::chrono::microseconds RttEstimator::timeout() const noexcept {
  if (samples_ == 0) return limits_.initial;
  const std::chrono::microseconds t(srtt_ + 4 * rttvar_);
  return std::clamp(t, limits_.min, limits_.max);
}

}  // namespace duplex::scan
