// The WebSocket chat endpoint on loopback, through http::Server and a real socket.
#include "duplex/apps/chat/chat_ws.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "../../transport/loopback.h"
#include "duplex/proto/http_router.h"
#include "duplex/proto/http_server.h"
#include "duplex/proto/websocket_handshake.h"
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

}  // namespace
}  // namespace duplex::apps
