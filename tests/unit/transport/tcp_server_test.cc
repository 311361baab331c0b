#include "duplex/transport/tcp_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "duplex/base/error.h"
#include "echo_server.h"

namespace duplex::test {
namespace {

TEST(TcpServer, ReportsTheRealPortWhenAskedForPortZero) {
  EchoServer server;
  EXPECT_NE(server.endpoint().port(), 0);
  Client c(server.endpoint());
  EXPECT_TRUE(c.connected());
}

TEST(TcpServer, EchoesEveryByteBackInOrder) {
  EchoServer server;
  Client c(server.endpoint());
  const std::string data = pattern(4 << 20);
  std::thread writer([&] { c.send_all(data); });
  const std::string back = c.receive(data.size());
  writer.join();
  EXPECT_TRUE(back == data);
}

TEST(TcpServer, ListensOnIpv6Loopback) {
  LoopRunner runner;
  std::unique_ptr<TcpServer> server;
  const inet::Endpoint ep = runner.call([&] {
    server = std::make_unique<TcpServer>(runner.loop(), inet::Endpoint::parse("[::1]:0"), "v6");
    server->set_message_callback(echo);
    server->start();
    return server->listen_endpoint();
  });
  Client c(ep);
  ASSERT_TRUE(c.connected());
  c.send_all("over ipv6");
  EXPECT_EQ(c.receive(9), "over ipv6");
  runner.call([&] { server.reset(); });
}

TEST(TcpServer, SpreadsConnectionsRoundRobinOverItsLoops) {
  std::mutex mutex;
  std::set<EventLoop*> loops;
  TcpServerOptions options;
  options.threads = 3;
  EchoServer server(options, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      std::lock_guard lock(mutex);
      loops.insert(c->loop());
    });
  });
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<Client>(server.endpoint()));
    clients.back()->send_all("x");
    EXPECT_EQ(clients.back()->receive(1), "x");  // the connection is up on its loop
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(loops.size(), 3u);
}

TEST(TcpServer, WithReusePortEveryLoopListensOnTheSamePort) {
  TcpServerOptions options;
  options.threads = 2;
  options.reuse_port = true;
  EchoServer server(options);
  for (int i = 0; i < 20; ++i) {
    Client c(server.endpoint());
    ASSERT_TRUE(c.send_all("ping"));
    EXPECT_EQ(c.receive(4), "ping");
  }
}

TEST(TcpServer, BindingAPortInUseThrowsNamingTheCauseAndTheFix) {
  EchoServer first;
  LoopRunner runner;
  try {
    runner.call([&] { TcpServer second(runner.loop(), first.endpoint(), "second"); });
    FAIL() << "a second server bound the same port";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("EADDRINUSE"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pick another port"), std::string::npos) << e.what();
  }
}

// A destroyed server lets its port go at once, in the same loop round: on io_uring its
// multishot accept holds the listening socket until the kernel has cancelled it.
TEST(TcpServer, ItsPortIsFreeTheMomentTheServerIsDestroyed) {
  LoopRunner runner;
  const inet::Endpoint again = runner.call([&] {
    inet::Endpoint where;
    {
      TcpServer first(runner.loop(), loopback(), "first");
      first.start();
      where = first.listen_endpoint();
    }
    TcpServer second(runner.loop(), where, "second");  // throws EADDRINUSE if still held
    second.start();
    return second.listen_endpoint();
  });
  EXPECT_NE(again.port(), 0);
}

TEST(TcpServer, DestroyedWithOpenConnectionsClosesThemCleanly) {
  TcpServerOptions options;
  options.threads = 2;
  auto server = std::make_unique<EchoServer>(options);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(std::make_unique<Client>(server->endpoint()));
    clients.back()->send_all("up");
    ASSERT_EQ(clients.back()->receive(2), "up");
  }
  server.reset();
  for (auto& c : clients) EXPECT_EQ(c->receive_until_eof(), std::optional<std::string>(""));
}

// Out of fds, the server must neither spin nor hang its clients; once fds are free it
// serves again.
TEST(TcpServer, ServesAgainAfterRunningOutOfFileDescriptors) {
  EchoServer server;
  rlimit old{};
  ::getrlimit(RLIMIT_NOFILE, &old);
  rlimit low = old;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);

  sockaddr_storage ss;
  const socklen_t len = server.endpoint().to_sockaddr(ss);
  const int victim = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{10, 0};
  ::setsockopt(victim, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::vector<int> hog;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) hog.push_back(fd);
  ASSERT_EQ(errno, EMFILE);

  // The server cannot accept this one; it must end it rather than leave it hanging.
  ASSERT_EQ(::connect(victim, reinterpret_cast<sockaddr*>(&ss), len), 0);
  char byte;
  const ssize_t r = ::recv(victim, &byte, 1, 0);
  EXPECT_TRUE(r == 0 || (r < 0 && errno == ECONNRESET)) << "recv returned " << r;

  for (int fd : hog) ::close(fd);
  ::close(victim);
  Client again(server.endpoint());
  ASSERT_TRUE(again.send_all("back"));
  EXPECT_EQ(again.receive(4), "back");
  ::setrlimit(RLIMIT_NOFILE, &old);
}

}  // namespace
}  // namespace duplex::test
