#include "duplex/apps/chat/chat_flood.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "duplex/reactor/event_loop.h"

namespace duplex::apps {

void run_next_round(EventLoop& loop, std::function<void()> f) {
  // Queued from the loop's callbacks, work runs after them in the same round; queued again
  // from there, it runs in the next.
  loop.queue_in_loop([&loop, round = loop.rounds(), f = std::move(f)]() mutable {
    if (loop.rounds() == round) return loop.queue_in_loop(std::move(f));
    f();
  });
}

FloodControl::FloodControl(const FloodLimits& limits) : limits_(limits), tokens_(limits.burst) {}

void FloodControl::refill(Clock::time_point now) {
  if (last_ != Clock::time_point{} && now > last_)
    tokens_ = std::min(limits_.burst, tokens_ + std::chrono::duration<double>(now - last_).count() *
                                                    limits_.lines_per_s);
  last_ = now;
  // A bucket full again means a quiet moment: past refusals are forgiven.
  if (tokens_ >= limits_.burst) refused_ = 0;
}

bool FloodControl::take(Clock::time_point now) {
  if (limits_.lines_per_s <= 0) return true;
  refill(now);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool FloodControl::admit(Clock::time_point now) { return queue_.empty() && take(now); }

bool FloodControl::queue(std::string line) {
  if (queue_.size() >= limits_.max_queued) return false;
  queue_.push_back(std::move(line));
  return true;
}

bool FloodControl::next(Clock::time_point now, std::string& line) {
  if (queue_.empty() || !take(now)) return false;
  line = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

Clock::duration FloodControl::until_next_token(Clock::time_point now) const {
  if (limits_.lines_per_s <= 0) return Clock::duration::zero();
  double tokens = tokens_;
  if (now > last_)
    tokens += std::chrono::duration<double>(now - last_).count() * limits_.lines_per_s;
  const double seconds = std::max(0.0, (1 - tokens) / limits_.lines_per_s);
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)) +
         std::chrono::milliseconds(1);
}

bool FloodControl::refuse() { return ++refused_ > limits_.max_refused; }

std::string FloodControl::rule() const {
  auto number = [](double v) {
    return v == std::floor(v) ? std::to_string(static_cast<long long>(v)) : std::to_string(v);
  };
  return "at most " + number(limits_.lines_per_s) + " lines a second after a burst of " +
         number(limits_.burst);
}

}  // namespace duplex::apps
