#include "duplex/apps/impair/impairment.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

namespace duplex::impair {
namespace {

std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

std::uint64_t splitmix(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr std::size_t kEthernetHeader = 14;

}  // namespace

Random::Random(std::uint64_t seed) noexcept {
  for (auto& s : s_) s = splitmix(seed);
}

std::uint64_t Random::next() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Random::uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Random::normal() noexcept {
  // Box-Muller: two uniforms give two independent normals; the second is kept.
  if (spare_normal_) return *std::exchange(spare_normal_, std::nullopt);
  const double u = 1.0 - uniform();  // (0, 1], so log() is finite
  const double v = uniform();
  const double radius = std::sqrt(-2.0 * std::log(u));
  spare_normal_ = radius * std::sin(2 * std::numbers::pi * v);
  return radius * std::cos(2 * std::numbers::pi * v);
}

double Random::pareto() noexcept {
  // Shape a = 3, scale 1: X = U^(-1/a), mean a/(a-1) = 1.5, variance a/((a-1)^2 (a-2)) = 0.75.
  const double x = std::pow(1.0 - uniform(), -1.0 / 3.0);
  return (x - 1.5) / std::sqrt(0.75);
}

Impairment::Impairment(const Spec& spec, std::uint64_t seed) : spec_(spec), random_(seed) {
  queue_.reserve(std::min<std::size_t>(spec.limit, 4096));
}

bool Impairment::lose() noexcept {
  if (spec_.gemodel) {
    const auto& ge = *spec_.gemodel;
    // As netem: move the chain, then lose with the probability of the state it left.
    const bool was_bad = bad_state_;
    bad_state_ = was_bad ? !random_.chance(ge.r) : random_.chance(ge.p);
    return random_.chance(was_bad ? ge.loss_bad : ge.loss_good);
  }
  return random_.chance(spec_.loss);
}

Nanos Impairment::jitter() noexcept {
  if (spec_.jitter.count() == 0) return Nanos(0);
  const double j = static_cast<double>(spec_.jitter.count());
  double x = 0;
  switch (spec_.distribution) {
    case Distribution::uniform:
      x = (2 * random_.uniform() - 1) * j;  // delay +- jitter, evenly
      break;
    case Distribution::normal:
      x = random_.normal() * j;  // jitter is the standard deviation
      break;
    case Distribution::pareto:
      x = random_.pareto() * j;
      break;
    case Distribution::paretonormal:
      // netem's mix: a quarter normal, three quarters pareto.
      x = (0.25 * random_.normal() + 0.75 * random_.pareto()) * j;
      break;
  }
  return Nanos(static_cast<std::int64_t>(x));
}

Nanos Impairment::departure(std::size_t bytes, Nanos now) noexcept {
  if (spec_.reorder > 0 && random_.chance(spec_.reorder)) {
    ++counters_.reordered;  // sent at once: it overtakes the frames still delayed
    return now;
  }
  Nanos when = now + std::max(Nanos(0), spec_.delay + jitter());
  if (spec_.rate_bits > 0) {
    // A token bucket as virtual time (GCRA): a frame may start once the bucket holds its
    // bytes; `burst` lets that many bytes go back to back after an idle spell.
    const double ns_per_byte = 8e9 / spec_.rate_bits;
    const Nanos cost(static_cast<std::int64_t>(static_cast<double>(bytes) * ns_per_byte));
    const Nanos depth(
        static_cast<std::int64_t>(static_cast<double>(spec_.burst_bytes) * ns_per_byte));
    when = std::max(when, bucket_time_ - depth);
    bucket_time_ = std::max(bucket_time_, when) + cost;
  }
  return when;
}

void Impairment::hold(std::span<const std::uint8_t> frame, Nanos now) {
  Frame buffer;
  if (!spare_.empty()) {
    buffer = std::move(spare_.back());
    spare_.pop_back();
  }
  buffer.assign(frame.begin(), frame.end());
  if (spec_.corrupt > 0 && random_.chance(spec_.corrupt) && buffer.size() > kEthernetHeader) {
    // One bit past the Ethernet header, as netem flips one in the IP packet: the frame
    // still reaches its host, whose checksums then find the damage.
    const auto bits = (buffer.size() - kEthernetHeader) * 8;
    const auto bit = random_.next() % bits;
    buffer[kEthernetHeader + bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    ++counters_.corrupted;
  }
  queue_.push_back(Held{departure(buffer.size(), now), order_++, std::move(buffer)});
  std::push_heap(queue_.begin(), queue_.end(), Later{});
}

void Impairment::offer(std::span<const std::uint8_t> frame, Nanos now) {
  ++counters_.offered;
  if (queue_.size() >= spec_.limit) {
    ++counters_.overlimit;
    return;
  }
  if (lose()) {
    ++counters_.lost;
    return;
  }
  hold(frame, now);
  if (spec_.duplicate > 0 && random_.chance(spec_.duplicate) && queue_.size() < spec_.limit) {
    ++counters_.duplicated;
    hold(frame, now);
  }
}

std::optional<Nanos> Impairment::next_release() const noexcept {
  if (queue_.empty()) return std::nullopt;
  return queue_.front().when;
}

std::size_t Impairment::take_due(Nanos now, std::size_t max, std::vector<Frame>& out) {
  std::size_t n = 0;
  while (n < max && !queue_.empty() && queue_.front().when <= now) {
    std::pop_heap(queue_.begin(), queue_.end(), Later{});
    counters_.released_bytes += queue_.back().frame.size();
    out.push_back(std::move(queue_.back().frame));
    queue_.pop_back();
    ++n;
  }
  counters_.released += n;
  return n;
}

void Impairment::recycle(Frame&& frame) {
  if (spare_.size() < 1024) spare_.push_back(std::move(frame));
}

}  // namespace duplex::impair
