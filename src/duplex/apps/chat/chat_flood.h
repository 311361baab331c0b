// Public. Flood control for one chat connection (TCP or WebSocket), as IRC servers do it: a
// token bucket (a burst, then a steady number of lines a second) decides when a line is
// handled; lines sent faster wait in a short queue, as IRC's "fakelag" delays them, and are
// handled as tokens come; a line that finds the queue full is refused, and past a bounded
// number of refusals the connection is dropped (IRC's "Excess Flood").
//
// The defaults let a person paste a screenful (the burst) and a script post ten lines a
// second for ever, and let `duplex chat < file` send a 100-line file whole, slowed down;
// one nc that sends 200,000 lines is dropped after burst + queue lines.
// Loop thread only (of the connection it guards).
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>

#include "duplex/reactor/timer_queue.h"

namespace duplex {
class EventLoop;
}

namespace duplex::apps {

struct FloodLimits {
  double lines_per_s = 10;           // after the burst; 0: no limit
  double burst = 20;                 // lines handled at once after a quiet moment
  std::size_t max_queued = 100;      // lines waiting for a token; more are refused
  std::size_t max_refused = 10;      // refused lines before the connection is dropped
  std::size_t lines_per_round = 32;  // handled per loop round (so one connection cannot stall it)
};

// Runs `f` in the next loop round (or a later one), for a connection whose share of this
// round is used up: work queued from a round's callbacks still runs in that round.
void run_next_round(EventLoop& loop, std::function<void()> f);

class FloodControl {
 public:
  explicit FloodControl(const FloodLimits& limits);

  // A line arrived: true when it may be handled now (nothing waits and a token was free;
  // the token is taken). Otherwise queue() it.
  bool admit(Clock::time_point now);
  // Queues a line that was not admitted; false when the queue is full: the line is refused.
  bool queue(std::string line);
  // The next queued line, when its token is due (taken); false when none is.
  bool next(Clock::time_point now, std::string& line);
  // How long until the next token; for a timer while lines wait.
  Clock::duration until_next_token(Clock::time_point now) const;
  // Counts a refused line; true once more than max_refused were: drop the connection.
  bool refuse();

  bool waiting() const noexcept { return !queue_.empty(); }
  void clear() noexcept { queue_.clear(); }
  const FloodLimits& limits() const noexcept { return limits_; }
  // "at most 10 lines a second after a burst of 20", for error lines.
  std::string rule() const;

 private:
  void refill(Clock::time_point now);
  bool take(Clock::time_point now);

  FloodLimits limits_;
  double tokens_;
  Clock::time_point last_{};
  std::size_t refused_ = 0;
  std::deque<std::string> queue_;
};

}  // namespace duplex::apps
