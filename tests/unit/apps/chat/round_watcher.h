// A chat member that notes in which loop round each rename was announced (a rename is
// announced at once, while the line or frame that asked for it is handled): for the tests
// of the share of a round each connection gets. Loop thread only, but for the check.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "../../transport/loopback.h"

#include "duplex/apps/chat/chat_hub.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::test {

class RoundWatcher : public apps::ChatMember {
 public:
  explicit RoundWatcher(EventLoop* loop) : loop_(loop) {}
  void deliver(const apps::ChatMessage&) override {}
  void notice(std::string_view text) override {
    if (text.find(" is now ") != std::string_view::npos) ++renames_per_round[loop_->rounds()];
  }
  std::size_t renames() const {
    std::size_t n = 0;
    for (const auto& [round, count] : renames_per_round) n += count;
    return n;
  }
  std::map<std::uint64_t, std::size_t> renames_per_round;  // loop thread only

 private:
  EventLoop* loop_;
};

// Waits until the member renamed itself `renames` times, n0 to n<renames - 1>, then checks
// that no loop round announced more than `share` of them, and that they came in order.
inline void expect_renames_spread_over_rounds(LoopRunner& runner, const RoundWatcher& watcher,
                                              const apps::ChatHub& hub, std::size_t renames,
                                              std::size_t share) {
  ASSERT_TRUE(wait_until([&] { return runner.call([&] { return watcher.renames() == renames; }); }))
      << "not every rename was handled";
  const auto per_round = runner.call([&] { return watcher.renames_per_round; });
  EXPECT_GE(per_round.size(), renames / share);
  for (const auto& [round, count] : per_round)
    EXPECT_LE(count, share) << "round " << round << " handled " << count;
  // In order: the last rename is the name the member keeps.
  EXPECT_EQ(runner.call([&] { return hub.members("lobby"); }),
            (std::vector<std::string>{"watcher", "n" + std::to_string(renames - 1)}));
}

}  // namespace duplex::test
