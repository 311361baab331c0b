// apps/impair: the impairment engine with a fake clock (the tests pass `now`) and fixed
// seeds: loss rates, Gilbert-Elliott bursts, delay distributions, the token bucket and its
// queue limit, reordering, duplication and corruption, measured over many frames.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "duplex/apps/impair/impairment.h"

namespace duplex::impair {
namespace {

using namespace std::chrono_literals;

constexpr int kFrames = 200'000;

// A frame whose payload starts with its number, so the tests can follow it.
std::vector<std::uint8_t> frame(std::uint32_t number, std::size_t size = 100) {
  std::vector<std::uint8_t> f(size, 0xab);
  std::memcpy(f.data() + 14, &number, sizeof number);
  return f;
}

std::uint32_t number_of(const std::vector<std::uint8_t>& f) {
  std::uint32_t n;
  std::memcpy(&n, f.data() + 14, sizeof n);
  return n;
}

// A spec whose queue holds every frame a test offers at once.
Spec holding_all() {
  Spec spec;
  spec.limit = 1'000'000;
  return spec;
}

struct Released {
  std::vector<std::uint32_t> numbers;
  std::vector<Nanos> times;
};

// Steps the fake clock from one release to the next until the queue is empty.
Released drain(Impairment& im) {
  Released r;
  std::vector<Impairment::Frame> out;
  while (const auto t = im.next_release()) {
    out.clear();
    im.take_due(*t, SIZE_MAX, out);
    for (auto& f : out) {
      r.numbers.push_back(number_of(f));
      r.times.push_back(*t);
      im.recycle(std::move(f));
    }
  }
  return r;
}

double median_ms(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Offers kFrames frames 10 us apart and returns each delivered frame's delay in ms.
std::vector<double> delays_ms(const Spec& spec, std::uint64_t seed = 1) {
  Impairment im(spec, seed);
  std::vector<double> sent_at(kFrames);
  std::vector<double> delays;
  std::vector<Impairment::Frame> out;
  for (std::uint32_t i = 0; i < kFrames; ++i) {
    const Nanos now = Nanos(std::int64_t{i} * 10'000);
    sent_at[i] = static_cast<double>(now.count());
    im.offer(frame(i), now);
  }
  const auto r = drain(im);
  for (std::size_t k = 0; k < r.numbers.size(); ++k)
    delays.push_back((static_cast<double>(r.times[k].count()) - sent_at[r.numbers[k]]) / 1e6);
  return delays;
}

TEST(Impairment, NoImpairmentPassesEveryFrameAtOnceInOrder) {
  Impairment im(Spec{}, 7);
  for (std::uint32_t i = 0; i < 1000; ++i) im.offer(frame(i), Nanos(5));
  std::vector<Impairment::Frame> out;
  EXPECT_EQ(im.take_due(Nanos(5), SIZE_MAX, out), 1000u);
  for (std::uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(number_of(out[i]), i);
  EXPECT_EQ(out[0], frame(0));
  EXPECT_FALSE(im.next_release());
}

TEST(Impairment, RandomLossIsTheAskedRate) {
  Spec spec = holding_all();
  spec.loss = 0.02;
  Impairment im(spec, 42);
  for (std::uint32_t i = 0; i < kFrames; ++i) im.offer(frame(i), Nanos(0));
  const double lost = static_cast<double>(im.counters().lost) / kFrames;
  EXPECT_NEAR(lost, 0.02, 0.002);
  EXPECT_EQ(im.held() + im.counters().lost, static_cast<std::size_t>(kFrames));
}

TEST(Impairment, GilbertElliottLosesInBurstsOfOneOverR) {
  Spec spec = holding_all();
  spec.gemodel = GilbertElliott{0.01, 0.25, 1.0, 0.0};
  Impairment im(spec, 3);
  std::vector<bool> lost;
  for (std::uint32_t i = 0; i < kFrames; ++i) {
    const auto before = im.counters().lost;
    im.offer(frame(i), Nanos(0));
    lost.push_back(im.counters().lost != before);
  }
  // Mean loss p / (p + r) = 3.85%; a burst lasts 1/r = 4 frames on average.
  const double rate = static_cast<double>(im.counters().lost) / kFrames;
  EXPECT_NEAR(rate, 0.01 / 0.26, 0.004);
  int bursts = 0;
  for (std::size_t i = 0; i < lost.size(); ++i) bursts += lost[i] && (i == 0 || !lost[i - 1]);
  const double mean_burst = static_cast<double>(im.counters().lost) / bursts;
  EXPECT_NEAR(mean_burst, 4.0, 0.3);
}

TEST(Impairment, GilbertElliottGoodStateLossAddsToTheMean) {
  Spec spec = holding_all();
  spec.gemodel = GilbertElliott{0.05, 0.5, 0.5, 0.01};  // 1-h = 50%, 1-k = 1%
  Impairment im(spec, 9);
  for (std::uint32_t i = 0; i < kFrames; ++i) im.offer(frame(i), Nanos(0));
  const double expected = (0.5 * 0.01 + 0.05 * 0.5) / 0.55;
  EXPECT_NEAR(static_cast<double>(im.counters().lost) / kFrames, expected, 0.003);
}

TEST(Impairment, FixedDelayHoldsEveryFrameExactlyThatLong) {
  Spec spec = holding_all();
  spec.delay = 20ms;
  const auto d = delays_ms(spec);
  ASSERT_EQ(d.size(), static_cast<std::size_t>(kFrames));
  EXPECT_EQ(*std::min_element(d.begin(), d.end()), 20.0);
  EXPECT_EQ(*std::max_element(d.begin(), d.end()), 20.0);
}

TEST(Impairment, UniformJitterStaysWithinDelayPlusOrMinusJitter) {
  Spec spec = holding_all();
  spec.delay = 20ms;
  spec.jitter = 5ms;
  const auto d = delays_ms(spec);
  EXPECT_GE(*std::min_element(d.begin(), d.end()), 15.0);
  EXPECT_LE(*std::max_element(d.begin(), d.end()), 25.0);
  EXPECT_NEAR(median_ms(d), 20.0, 0.1);
  // A uniform spread of +-5 ms has a standard deviation of 5 / sqrt(3).
  const double mean = std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(d.size());
  double var = 0;
  for (double x : d) var += (x - mean) * (x - mean);
  EXPECT_NEAR(std::sqrt(var / static_cast<double>(d.size())), 5.0 / std::sqrt(3.0), 0.05);
}

TEST(Impairment, NormalJitterHasTheDelayAsMedianAndTheJitterAsDeviation) {
  Spec spec = holding_all();
  spec.delay = 50ms;
  spec.jitter = 5ms;
  spec.distribution = Distribution::normal;
  const auto d = delays_ms(spec);
  EXPECT_NEAR(median_ms(d), 50.0, 0.1);
  const double mean = std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(d.size());
  double var = 0;
  for (double x : d) var += (x - mean) * (x - mean);
  EXPECT_NEAR(std::sqrt(var / static_cast<double>(d.size())), 5.0, 0.1);
  // About 68% within one deviation.
  const auto within =
      std::count_if(d.begin(), d.end(), [](double x) { return std::abs(x - 50) < 5; });
  EXPECT_NEAR(static_cast<double>(within) / static_cast<double>(d.size()), 0.683, 0.01);
}

TEST(Impairment, ParetoJitterHasALongTailAboveTheDelay) {
  Spec spec = holding_all();
  spec.delay = 50ms;
  spec.jitter = 5ms;
  spec.distribution = Distribution::pareto;
  const auto d = delays_ms(spec);
  const double mean = std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(d.size());
  EXPECT_NEAR(mean, 50.0, 0.2);
  EXPECT_LT(median_ms(d), 50.0);  // most frames come early, a few very late
  EXPECT_GT(*std::max_element(d.begin(), d.end()), 50.0 + 6 * 5.0);
  EXPECT_GE(*std::min_element(d.begin(), d.end()), 50.0 - 0.58 * 5.0 - 0.01);
}

TEST(Impairment, ParetoNormalMixesBoth) {
  Spec spec = holding_all();
  spec.delay = 50ms;
  spec.jitter = 5ms;
  spec.distribution = Distribution::paretonormal;
  const auto d = delays_ms(spec);
  const double mean = std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(d.size());
  EXPECT_NEAR(mean, 50.0, 0.2);
  EXPECT_GT(*std::max_element(d.begin(), d.end()), 50.0 + 4 * 5.0);
}

TEST(Impairment, NegativeDelaysAreClampedToZero) {
  Spec spec = holding_all();
  spec.delay = 1ms;
  spec.jitter = 5ms;
  spec.distribution = Distribution::normal;
  const auto d = delays_ms(spec);
  EXPECT_GE(*std::min_element(d.begin(), d.end()), 0.0);
}

TEST(Impairment, RateSpacesFramesByTheirSerialisationTime) {
  Spec spec = holding_all();
  spec.rate_bits = 10e6;  // a 1250-byte frame is 1 ms at 10 Mbit/s
  Impairment im(spec, 1);
  for (std::uint32_t i = 0; i < 1000; ++i) im.offer(frame(i, 1250), Nanos(0));
  const auto r = drain(im);
  ASSERT_EQ(r.times.size(), 1000u);
  for (std::size_t i = 0; i < r.times.size(); ++i) {
    ASSERT_EQ(r.numbers[i], i);
    ASSERT_EQ(r.times[i], Nanos(std::int64_t(i) * 1'000'000));
  }
}

TEST(Impairment, RateHoldsAtTheLimitAndDropsTheExcess) {
  // Frames offered at twice the rate for one second: half get through, the queue never
  // holds more than its limit, and the rest is dropped over the limit.
  Spec spec = holding_all();
  spec.rate_bits = 10e6;
  spec.limit = 50;
  Impairment im(spec, 1);
  std::vector<Impairment::Frame> out;
  std::size_t delivered = 0;
  std::size_t max_held = 0;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    const Nanos now = Nanos(std::int64_t{i} * 500'000);
    im.offer(frame(i, 1250), now);
    max_held = std::max(max_held, im.held());
    out.clear();
    delivered += im.take_due(now, SIZE_MAX, out);
  }
  EXPECT_LE(max_held, 50u);
  EXPECT_NEAR(static_cast<double>(delivered), 1000.0, 1000 * 0.05);
  EXPECT_NEAR(static_cast<double>(im.counters().overlimit), 1000.0, 1000 * 0.06);
}

TEST(Impairment, BurstLetsABucketfulGoBackToBack) {
  Spec spec = holding_all();
  spec.rate_bits = 10e6;
  spec.burst_bytes = 12'500;  // ten frames of 1250 bytes
  Impairment im(spec, 1);
  for (std::uint32_t i = 0; i < 20; ++i) im.offer(frame(i, 1250), Nanos(1'000'000'000));
  const auto r = drain(im);
  // The first eleven (one frame plus the bucket) leave at once, then one per millisecond.
  EXPECT_EQ(std::count(r.times.begin(), r.times.end(), Nanos(1'000'000'000)), 11);
  EXPECT_EQ(r.times.back(), Nanos(1'000'000'000 + 9 * 1'000'000));
}

TEST(Impairment, ReorderSendsThatShareAtOnceAheadOfTheDelayed) {
  Spec spec = holding_all();
  spec.delay = 10ms;
  spec.reorder = 0.25;
  Impairment im(spec, 5);
  for (std::uint32_t i = 0; i < kFrames; ++i) im.offer(frame(i), Nanos(std::int64_t{i} * 1000));
  EXPECT_NEAR(static_cast<double>(im.counters().reordered) / kFrames, 0.25, 0.005);
  const auto r = drain(im);
  std::size_t inversions = 0;
  for (std::size_t i = 1; i < r.numbers.size(); ++i) inversions += r.numbers[i] < r.numbers[i - 1];
  EXPECT_GT(inversions, static_cast<std::size_t>(kFrames / 10));
  EXPECT_EQ(r.numbers.size(), static_cast<std::size_t>(kFrames));
}

TEST(Impairment, DuplicateSendsThatShareTwice) {
  Spec spec = holding_all();
  spec.duplicate = 0.01;
  Impairment im(spec, 6);
  for (std::uint32_t i = 0; i < kFrames; ++i) im.offer(frame(i), Nanos(0));
  const auto r = drain(im);
  EXPECT_NEAR(static_cast<double>(r.numbers.size()) / kFrames, 1.01, 0.001);
  EXPECT_EQ(r.numbers.size(), std::size_t{kFrames} + im.counters().duplicated);
}

TEST(Impairment, CorruptFlipsOneBitPastTheEthernetHeader) {
  Spec spec = holding_all();
  spec.corrupt = 0.1;
  Impairment im(spec, 8);
  const auto original = std::vector<std::uint8_t>(200, 0x5a);
  for (int i = 0; i < kFrames; ++i) im.offer(original, Nanos(0));
  std::vector<Impairment::Frame> out;
  im.take_due(Nanos(0), SIZE_MAX, out);
  std::size_t corrupted = 0;
  for (const auto& f : out) {
    int bits = 0;
    for (std::size_t k = 0; k < f.size(); ++k) {
      bits += std::popcount(static_cast<unsigned>(f[k] ^ original[k]));
      if (k < 14) {
        ASSERT_EQ(f[k], original[k]);
      }
    }
    ASSERT_LE(bits, 1);
    corrupted += static_cast<std::size_t>(bits);
  }
  EXPECT_EQ(corrupted, im.counters().corrupted);
  EXPECT_NEAR(static_cast<double>(corrupted) / kFrames, 0.1, 0.003);
}

TEST(Impairment, TheSameSeedReplaysTheSameRun) {
  Spec spec = holding_all();
  spec.loss = 0.1;
  spec.delay = 10ms;
  spec.jitter = 3ms;
  auto run = [&](std::uint64_t seed) {
    Impairment im(spec, seed);
    for (std::uint32_t i = 0; i < 10'000; ++i) im.offer(frame(i), Nanos(std::int64_t{i} * 1000));
    return drain(im).times;
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

TEST(Random, UniformCoversZeroToOneEvenly) {
  Random r(1);
  int buckets[10] = {};
  for (int i = 0; i < 100'000; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ++buckets[static_cast<int>(u * 10)];
  }
  for (int b : buckets) EXPECT_NEAR(b, 10'000, 400);
}

}  // namespace
}  // namespace duplex::impair
