// Public. The impairment of one direction of a link: frames go in with offer() and come out
// of take_due() when their time has come, or never (lost, or over the queue limit).
//
// Pure: no sockets and no clock of its own. The caller passes `now` (a steady clock in the
// forwarder, a fake one in the tests) and the seed, so a run can be replayed exactly.
// Not thread-safe; one per direction, used from one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "duplex/apps/impair/impair_spec.h"

namespace duplex::impair {

// xoshiro256** (Blackman and Vigna): fast, and the same numbers on every platform, which
// the standard library's distributions do not promise.
class Random {
 public:
  explicit Random(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept;
  double uniform() noexcept;  // [0, 1)
  bool chance(double p) noexcept { return p > 0 && uniform() < p; }
  double normal() noexcept;  // mean 0, standard deviation 1
  double pareto() noexcept;  // shape 3, shifted and scaled to mean 0, deviation 1

 private:
  std::uint64_t s_[4];
  std::optional<double> spare_normal_;
};

struct Counters {
  std::uint64_t offered = 0;
  std::uint64_t lost = 0;       // random or Gilbert-Elliott loss
  std::uint64_t overlimit = 0;  // dropped because `limit` frames were held
  std::uint64_t duplicated = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t reordered = 0;
  std::uint64_t released = 0;
  std::uint64_t released_bytes = 0;
};

class Impairment {
 public:
  using Frame = std::vector<std::uint8_t>;

  Impairment(const Spec& spec, std::uint64_t seed);

  // A frame arrives at `now`: it is dropped, or copied into the queue (twice when
  // duplicated) with the time it leaves.
  void offer(std::span<const std::uint8_t> frame, Nanos now);

  // When the earliest held frame leaves; nullopt when none is held.
  std::optional<Nanos> next_release() const noexcept;

  // Moves up to `max` frames whose time has come (at or before `now`) to the end of `out`,
  // earliest first (frames due at the same time keep their arrival order). Give the
  // buffers back with recycle() once sent, so the hot path does not allocate.
  std::size_t take_due(Nanos now, std::size_t max, std::vector<Frame>& out);
  void recycle(Frame&& frame);

  std::size_t held() const noexcept { return queue_.size(); }
  const Counters& counters() const noexcept { return counters_; }
  const Spec& spec() const noexcept { return spec_; }

 private:
  struct Held {
    Nanos when;
    std::uint64_t order;
    Frame frame;
  };
  struct Later {
    bool operator()(const Held& a, const Held& b) const noexcept {
      return a.when != b.when ? a.when > b.when : a.order > b.order;
    }
  };

  bool lose() noexcept;
  Nanos departure(std::size_t bytes, Nanos now) noexcept;
  Nanos jitter() noexcept;
  void hold(std::span<const std::uint8_t> frame, Nanos now);

  Spec spec_;
  Random random_;
  bool bad_state_ = false;  // Gilbert-Elliott
  Nanos bucket_time_{0};    // token bucket as virtual time: when the next frame may start
  std::uint64_t order_ = 0;
  std::vector<Held> queue_;  // a min-heap on (when, order)
  std::vector<Frame> spare_;
  Counters counters_;
};

}  // namespace duplex::impair
