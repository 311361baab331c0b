// The TCP chat server on loopback, through a real socket.
#include "duplex/apps/chat/chat_tcp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
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

// A chat server on loopback with its hub, built and torn down on the loop thread.
class ChatServer {
 public:
  explicit ChatServer(ChatTcpOptions options) {
    at_ = runner_.call([&] {
      hub_ = std::make_unique<ChatHub>(runner_.loop(), db_.path());
      server_ = std::make_unique<ChatTcpServer>(runner_.loop(), test::loopback(), *hub_, options);
      server_->start();
      return server_->listen_endpoint();
    });
  }
  ~ChatServer() {
    runner_.call([&] {
      server_.reset();
      hub_.reset();
      return 0;
    });
  }
  const inet::Endpoint& at() const { return at_; }

 private:
  test::TempDb db_;
  test::LoopRunner runner_;
  std::unique_ptr<ChatHub> hub_;
  std::unique_ptr<ChatTcpServer> server_;
  inet::Endpoint at_;
};

using test::receive_until;

ChatTcpOptions with_token(std::string token) {
  ChatTcpOptions options;
  options.token = std::move(token);
  return options;
}

TEST(ChatTcpAuth, TheRightTokenJoinsTheRoomAndWhatFollowsItInTheSameWriteIsSaid) {
  ChatServer server(with_token("s3cret"));
  test::Client client(server.at());
  ASSERT_TRUE(client.send_all("/auth s3cret\nhello from one\n"));
  std::string seen;
  ASSERT_TRUE(receive_until(client, seen, ": hello from one\n")) << seen;
  EXPECT_EQ(seen.find("* this chat needs its token"), 0u) << seen;
  EXPECT_LT(seen.find("* authenticated\n"), seen.find("* you are ")) << seen;
}

TEST(ChatTcpAuth, AWrongOrMissingTokenGetsOneLineThenTheCloseAndNothingOfTheRoom) {
  ChatServer server(with_token("s3cret"));
  {
    test::Client member(server.at());
    ASSERT_TRUE(member.send_all("/auth s3cret\nsaid before\n"));
    std::string seen;
    ASSERT_TRUE(receive_until(member, seen, ": said before\n")) << seen;
  }
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"/auth s3creT\nintruder one\n", "! wrong token; disconnected\n"},
      {"intruder two\n", "! this chat needs its token: the first line must be /auth TOKEN"},
      {"/nick mallory\n", "! this chat needs its token"},
  };
  for (const auto& [input, refusal] : cases) {
    test::Client stranger(server.at());
    ASSERT_TRUE(stranger.send_all(input));
    const auto got = stranger.receive_until_eof();
    ASSERT_TRUE(got.has_value()) << input;
    EXPECT_NE(got->find(refusal), std::string::npos) << *got;
    EXPECT_EQ(got->find("said before"), std::string::npos) << *got;
    EXPECT_EQ(got->find("you are"), std::string::npos) << *got;
    EXPECT_EQ(std::count(got->begin(), got->end(), '!'), 1) << *got;
  }
  // What the strangers said never reached the room: a member joining now sees only its own.
  test::Client later(server.at());
  ASSERT_TRUE(later.send_all("/auth s3cret\n"));
  std::string seen;
  ASSERT_TRUE(receive_until(later, seen, "* you are ")) << seen;
  EXPECT_NE(seen.find(": said before\n"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("intruder"), std::string::npos) << seen;
}

TEST(ChatTcpAuth, AFirstLineLongerThanTheLimitIsRefusedWithoutWaitingForItsEnd) {
  ChatServer server(with_token("s3cret"));
  test::Client stranger(server.at());
  ASSERT_TRUE(stranger.send_all(std::string(ChatAuth::kMaxLineBytes + 1, 'a')));
  const auto got = stranger.receive_until_eof();
  ASSERT_TRUE(got.has_value());
  EXPECT_NE(got->find("! the first line must be /auth TOKEN, and this is longer than"),
            std::string::npos)
      << *got;
}

TEST(ChatTcpAuth, NoAuthLineWithinTheTimeoutIsRefused) {
  ChatTcpOptions options = with_token("s3cret");
  options.auth_timeout = std::chrono::milliseconds(200);
  ChatServer server(options);
  test::Client stranger(server.at());
  ASSERT_TRUE(stranger.send_all("/auth s3c"));  // and nothing more
  const auto got = stranger.receive_until_eof();
  ASSERT_TRUE(got.has_value());
  EXPECT_NE(got->find("! no /auth TOKEN within 200 ms; disconnected\n"), std::string::npos) << *got;
}

TEST(ChatTcpAuth, WithoutATokenAuthIsAnsweredAndChangesNothing) {
  ChatServer server(ChatTcpOptions{});
  test::Client client(server.at());
  ASSERT_TRUE(client.send_all("/auth whatever\n"));
  std::string seen;
  ASSERT_TRUE(receive_until(client, seen, "* this chat needs no token")) << seen;
  EXPECT_EQ(seen.find("needs its token"), std::string::npos) << seen;
}

}  // namespace
}  // namespace duplex::apps
