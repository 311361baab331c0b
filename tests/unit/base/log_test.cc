#include "duplex/base/log.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace duplex {
namespace {

// Captures records; restores the default sink and level when the test ends.
class Captured : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_sink([this](log::Level level, std::string_view component, std::string_view text) {
      records_.push_back(std::string(log::level_name(level)) + " " + std::string(component) + ": " +
                         std::string(text));
    });
  }
  void TearDown() override {
    log::set_sink({});
    log::set_level(log::Level::warn);
  }
  std::vector<std::string> records_;
};

TEST(LogFormat, IsIsoUtcToTheMillisecondThenLevelComponentAndMessage) {
  // 2026-12-04T16:02:11.123Z
  const std::chrono::system_clock::time_point when{std::chrono::milliseconds(1796400131123)};
  EXPECT_EQ(log::format_line(when, log::Level::error, "chat", "commit failed: disk I/O error"),
            "2026-12-04T16:02:11.123Z error chat: commit failed: disk I/O error");
  const std::chrono::system_clock::time_point on_the_second{std::chrono::seconds(0)};
  EXPECT_EQ(log::format_line(on_the_second, log::Level::debug, "http", "x"),
            "1970-01-01T00:00:00.000Z debug http: x");
}

TEST(LogLevel, NamesParseBackAndNothingElseDoes) {
  for (auto l : {log::Level::error, log::Level::warn, log::Level::info, log::Level::debug})
    EXPECT_EQ(log::parse_level(log::level_name(l)), l);
  EXPECT_EQ(log::parse_level("ERROR"), std::nullopt);
  EXPECT_EQ(log::parse_level("verbose"), std::nullopt);
}

TEST_F(Captured, TheReplacedSinkGetsEveryRecordThatIsOnWithItsPiecesJoined) {
  log::set_level(log::Level::info);
  log::error("chat", "commit failed: ", std::string("disk full"), " (", 3, " messages)");
  log::info("http", "up");
  EXPECT_EQ(records_, (std::vector<std::string>{"error chat: commit failed: disk full (3 messages)",
                                                "info http: up"}));
}

TEST_F(Captured, RecordsAboveTheLevelAreDroppedWithoutFormattingTheirArguments) {
  log::set_level(log::Level::warn);
  struct Counted {
    int* formatted;
    operator std::string_view() const {  // runs only if the record is built
      ++*formatted;
      return "piece";
    }
  };
  int formatted = 0;
  log::info("http", Counted{&formatted});
  log::debug("http", "nothing");
  log::warn("http", "kept");
  EXPECT_EQ(records_, std::vector<std::string>{"warn http: kept"});
  EXPECT_FALSE(log::enabled(log::Level::info));
  EXPECT_TRUE(log::enabled(log::Level::error));
}

TEST_F(Captured, RecordsFromManyThreadsReachTheSinkOneAtATime) {
  constexpr int kThreads = 4, kEach = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([] {
      for (int i = 0; i < kEach; ++i) log::error("t", i);
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(records_.size(), static_cast<std::size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace duplex
