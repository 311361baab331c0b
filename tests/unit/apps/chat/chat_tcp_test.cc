// The TCP chat server on loopback, through a real socket.
#include "duplex/apps/chat/chat_tcp.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "../../transport/loopback.h"
#include "duplex/apps/chat/chat_hub.h"
#include "round_watcher.h"
#include "temp_db.h"

namespace duplex::apps {
namespace {

TEST(ChatTcp, ABurstOfLinesInOneReadIsHandledOverSeveralRounds) {
  test::TempDb db;
  test::LoopRunner runner;
  std::unique_ptr<ChatHub> hub;
  std::unique_ptr<test::RoundWatcher> watcher;
  std::unique_ptr<ChatTcpServer> server;
  ChatTcpOptions options;
  options.flood.lines_per_s = 0;  // no rate limit: only the share of a round holds lines back
  options.flood.lines_per_round = 8;
  const auto at = runner.call([&] {
    hub = std::make_unique<ChatHub>(runner.loop(), db.path());
    watcher = std::make_unique<test::RoundWatcher>(runner.loop());
    hub->join(watcher.get(), "lobby", "watcher");
    server = std::make_unique<ChatTcpServer>(runner.loop(), test::loopback(), *hub, options);
    server->start();
    return server->listen_endpoint();
  });
  test::Client client(at);
  std::string seen;
  while (seen.find("* you are ") == std::string::npos) {
    auto more = client.receive(1);
    ASSERT_FALSE(more.empty()) << "no welcome; got: " << seen;
    seen += more;
  }
  // 100 renames in one write: a kilobyte or so, which the server reads at once.
  constexpr std::size_t kLines = 100;
  std::string burst;
  for (std::size_t i = 0; i < kLines; ++i) burst += "/nick n" + std::to_string(i) + "\n";
  ASSERT_TRUE(client.send_all(burst));
  test::expect_renames_spread_over_rounds(runner, *watcher, *hub, kLines,
                                          options.flood.lines_per_round);
  runner.call([&] {
    server.reset();
    watcher.reset();
    hub.reset();
    return 0;
  });
}

}  // namespace
}  // namespace duplex::apps
