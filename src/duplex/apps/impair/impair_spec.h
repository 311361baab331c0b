// Public. What one direction of an impaired link does to its frames, in netem's terms
// (tc-netem(8)): loss (random or Gilbert-Elliott bursts), delay with jitter and its
// distribution, a rate limit with a queue limit, reordering, duplication and corruption.
//
// parse_impairments() reads them from command-line words that follow netem's names
// (`--loss 2%`, `--delay 20ms 5ms`, `--rate 10mbit`), for one direction or both.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace duplex::impair {

using Nanos = std::chrono::nanoseconds;

// How the jitter spreads around the delay. netem's default is uniform.
enum class Distribution { uniform, normal, pareto, paretonormal };

// Gilbert-Elliott bursty loss: two states, good and bad. Each frame first moves the chain
// (good -> bad with probability p, bad -> good with r), then is lost with the probability of
// the state it was in: 1-k in good, 1-h in bad. Mean loss = (r(1-k) + p(1-h)) / (p + r);
// with 1-h = 1, a burst of losses lasts 1/r frames on average.
struct GilbertElliott {
  double p = 0;          // good -> bad
  double r = 1;          // bad -> good
  double loss_bad = 1;   // 1-h
  double loss_good = 0;  // 1-k
};

struct Spec {
  double loss = 0;  // random loss, a probability in [0, 1]
  std::optional<GilbertElliott> gemodel;
  Nanos delay{0};
  Nanos jitter{0};
  Distribution distribution = Distribution::uniform;
  double rate_bits = 0;         // bits per second of whole frames; 0: no limit
  std::size_t burst_bytes = 0;  // token bucket depth beyond one frame
  std::size_t limit = 10'000;   // frames held at most (netem's 1000 drops at 100 ms, 1 Gbit/s)
  double reorder = 0;           // probability that a frame skips the delay
  double duplicate = 0;
  double corrupt = 0;

  bool empty() const noexcept;
  // "loss 2% delay 20ms 5ms normal rate 10mbit limit 10000", or "none".
  std::string describe() const;
};

// The two directions of the link between side A and side B.
struct Directions {
  Spec a_to_b;
  Spec b_to_a;
};

// Reads impairment flags. Each applies to both directions, or to one after `--a-to-b` or
// `--b-to-a` (until `--both`). Throws duplex::ParseError naming the word and the fix.
//   --loss P%            --loss gemodel p r [1-h [1-k]]
//   --delay T [J]        --distribution uniform|normal|pareto|paretonormal
//   --rate R             --burst BYTES      --limit N
//   --reorder P%         --duplicate P%     --corrupt P%
Directions parse_impairments(std::span<const std::string> words);

// Whether `word` is one parse_impairments() takes (so a CLI can split its own flags off).
bool is_impairment_flag(const std::string& word);

// The values' own syntax, for the CLI and the tests. Throw duplex::ParseError.
double parse_percent(const std::string& text);    // "2%", "2", "0.5%" -> 0.02, 0.02, 0.005
Nanos parse_time(const std::string& text);        // "20ms", "500us", "1.5s"
double parse_rate(const std::string& text);       // "10mbit", "1gbit", "100kbps" -> bits/s
std::string format_time(Nanos t);                 // "20ms", "1.5ms", "500us"
std::string format_rate(double bits_per_second);  // "10mbit", "1.5gbit"

}  // namespace duplex::impair
