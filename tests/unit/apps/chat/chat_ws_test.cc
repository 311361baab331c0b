// The WebSocket chat endpoint on loopback, through http::Server and a real socket.
#include "duplex/apps/chat/chat_ws.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../../transport/loopback.h"
#include "duplex/proto/http_router.h"
#include "duplex/proto/http_server.h"
#include "duplex/proto/websocket_frame.h"
#include "duplex/proto/websocket_handshake.h"
#include "duplex/reactor/event_loop.h"
#include "round_watcher.h"
#include "temp_db.h"

namespace duplex::apps {
namespace {

TEST(ChatWsEndpoint, AMemberWhoseConnectionOutlivesTheEndpointStillLeavesTheHub) {
  test::TempDb db;
  test::LoopRunner runner;
  std::unique_ptr<ChatHub> hub;
  std::unique_ptr<ChatWsEndpoint> endpoint;
  std::unique_ptr<http::Server> server;
  const auto at = runner.call([&] {
    hub = std::make_unique<ChatHub>(runner.loop(), db.path());
    endpoint = std::make_unique<ChatWsEndpoint>(*hub);
    http::Router router;
    endpoint->add_route(router);
    server = std::make_unique<http::Server>(runner.loop(), test::loopback(), router.handler());
    server->start();
    return server->listen_endpoint();
  });
  {
    test::Client client(at);
    ASSERT_TRUE(client.send_all(
        websocket::client_request("127.0.0.1", "/ws/chat", websocket::generate_key())));
    std::string seen;
    while (seen.find("\"welcome\"") == std::string::npos) {
      auto more = client.receive(1);
      ASSERT_FALSE(more.empty()) << "no welcome; got: " << seen;
      seen += more;
    }
    EXPECT_EQ(runner.call([&] { return hub->online(); }), 1u);
    // The endpoint goes first (the server stops its routes), the connection lives on.
    runner.call([&] {
      endpoint.reset();
      return 0;
    });
  }  // the client closes; the member goes with its connection
  EXPECT_TRUE(test::wait_until([&] { return runner.call([&] { return hub->online() == 0; }); }))
      << "the hub still holds a member whose connection closed";
  runner.call([&] {
    server.reset();
    hub.reset();
    return 0;
  });
}

TEST(ChatWs, ABurstOfFramesInOneReadIsHandledOverSeveralRounds) {
  test::TempDb db;
  test::LoopRunner runner;
  std::unique_ptr<ChatHub> hub;
  std::unique_ptr<ChatWsEndpoint> endpoint;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<test::RoundWatcher> watcher;
  ChatWsOptions options;
  options.flood.lines_per_s = 0;  // no rate limit: only the share of a round holds frames back
  options.flood.lines_per_round = 8;
  const auto at = runner.call([&] {
    hub = std::make_unique<ChatHub>(runner.loop(), db.path());
    watcher = std::make_unique<test::RoundWatcher>(runner.loop());
    hub->join(watcher.get(), "lobby", "watcher");
    endpoint = std::make_unique<ChatWsEndpoint>(*hub, options);
    http::Router router;
    endpoint->add_route(router);
    server = std::make_unique<http::Server>(runner.loop(), test::loopback(), router.handler());
    server->start();
    return server->listen_endpoint();
  });
  test::Client client(at);
  ASSERT_TRUE(client.send_all(
      websocket::client_request("127.0.0.1", "/ws/chat", websocket::generate_key())));
  std::string seen;
  while (seen.find("\"history\"") == std::string::npos) {
    auto more = client.receive(1);
    ASSERT_FALSE(more.empty()) << "no history; got: " << seen;
    seen += more;
  }
  // 100 renames in one write: a few kilobytes, which the server reads at once.
  constexpr std::size_t kFrames = 100;
  const std::array<std::uint8_t, 4> key = {1, 2, 3, 4};
  std::string burst;
  for (std::size_t i = 0; i < kFrames; ++i) {
    const std::string json = R"({"type":"nick","name":"n)" + std::to_string(i) + R"("})";
    websocket::encode_frame(burst, websocket::Opcode::text,
                            {reinterpret_cast<const std::uint8_t*>(json.data()), json.size()}, true,
                            &key);
  }
  ASSERT_TRUE(client.send_all(burst));
  test::expect_renames_spread_over_rounds(runner, *watcher, *hub, kFrames,
                                          options.flood.lines_per_round);
  runner.call([&] {
    server.reset();
    endpoint.reset();
    watcher.reset();
    hub.reset();
    return 0;
  });
}

}  // namespace
}  // namespace duplex::apps
