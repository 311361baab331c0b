#include "duplex/transport/tcp_client.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "duplex/base/error.h"

#include "duplex/transport/socket.h"
#include "duplex/transport/tcp_connection.h"
#include "echo_server.h"

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

// A loopback port with nothing listening (bound, then released).
inet::Endpoint closed_port() {
  LoopRunner r;
  return r.call([&] {
    TcpServer s(r.loop(), loopback(), "probe");
    return s.listen_endpoint();
  });
}

// Runs a client in its own loop: connects, sends `hello`, and reports the echo or the
// failure.
struct EchoingClient {
  LoopRunner runner;
  std::unique_ptr<TcpClient> client;
  std::promise<std::string> result;

  void start(std::vector<inet::Endpoint> peers, std::function<void(TcpClient&)> setup = {}) {
    runner.call([&, peers] {
      client = std::make_unique<TcpClient>(runner.loop(), peers, "client");
      client->set_connection_callback([](const TcpConnectionPtr& c) {
        if (c->connected()) c->send("hello");
      });
      client->set_message_callback([this](const TcpConnectionPtr&, Buffer& in, Clock::time_point) {
        if (in.readable_bytes() >= 5) result.set_value("echo: " + in.retrieve_all_as_string());
      });
      client->set_connect_failed_callback(
          [this](const std::string& why) { result.set_value("failed: " + why); });
      if (setup) setup(*client);
      client->connect();
    });
  }
  std::string wait() {
    auto f = result.get_future();
    if (f.wait_for(20s) != std::future_status::ready) return "no answer in 20 s";
    return f.get();
  }
  ~EchoingClient() {
    runner.call([&] { client.reset(); });
  }
};

TEST(TcpClient, TriesEveryAddressUntilOneAnswers) {
  EchoServer server;
  EchoingClient c;
  c.start({closed_port(), server.endpoint()});
  EXPECT_EQ(c.wait(), "echo: hello");
}

TEST(TcpClient, ReportsTheErrnoWhenNoAddressAnswers) {
  EchoingClient c;
  c.start({closed_port()});
  const std::string r = c.wait();
  EXPECT_NE(r.find("failed: connect 127.0.0.1:"), std::string::npos) << r;
  EXPECT_NE(r.find("ECONNREFUSED"), std::string::npos) << r;
}

TEST(TcpClient, ReconnectsWithBackOffOnceTheServerAppears) {
  const inet::Endpoint where = closed_port();
  std::atomic<int> refused{0};
  EchoingClient c;
  c.start({where}, [&](TcpClient& client) {
    client.enable_retry(10ms, 40ms);
    client.set_attempt_failed_callback(
        [&](const inet::Endpoint&, const std::string&) { ++refused; });
  });
  ASSERT_TRUE(wait_until([&] { return refused >= 3; })) << "the client did not retry";
  LoopRunner runner;
  std::unique_ptr<TcpServer> late;
  runner.call([&] {
    late = std::make_unique<TcpServer>(runner.loop(), where, "late");
    late->set_message_callback(echo);
    late->start();
  });
  EXPECT_EQ(c.wait(), "echo: hello");
  runner.call([&] { late.reset(); });
}

// A listener whose accept queue is full drops new SYNs, so a connect there gets no answer.
TEST(TcpClient, GivesUpOnAnAddressThatDoesNotAnswerInTime) {
  Socket listener = Socket::tcp(loopback());
  listener.bind(loopback());
  listener.listen(0);
  std::vector<Socket> fillers;
  for (int i = 0; i < 3; ++i) {
    fillers.push_back(Socket::tcp(loopback()));
    fillers.back().connect(listener.local_endpoint());  // non-blocking: queued or dropped
  }
  // The first filler's handshake done, the queue (one entry with backlog 0) is full.
  pollfd first{fillers.front().fd(), POLLOUT, 0};
  ASSERT_EQ(::poll(&first, 1, 5000), 1) << "the listener took no connection at all";
  EchoingClient c;
  c.start({listener.local_endpoint()},
          [](TcpClient& client) { client.set_connect_timeout(200ms); });
  const std::string r = c.wait();
  EXPECT_NE(r.find("ETIMEDOUT"), std::string::npos) << r;
}

TEST(TcpClient, ResolvesLocalhostToLoopbackAddresses) {
  auto all = TcpClient::resolve("localhost", 7);
  ASSERT_FALSE(all.empty());
  for (const auto& e : all) {
    EXPECT_TRUE(e.address().is_loopback()) << e.to_string();
    EXPECT_EQ(e.port(), 7);
  }
}

TEST(TcpClient, UnresolvableNameThrowsNamingIt) {
  try {
    TcpClient::resolve("no-such-host.invalid", 80);
    FAIL() << "resolved a .invalid name";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-host.invalid"), std::string::npos);
  }
}

TEST(TcpClient, DestroyedWhileConnectedClosesItsConnection) {
  std::promise<void> down;
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (!c->connected()) down.set_value();
    });
  });
  {
    EchoingClient c;
    c.start({server.endpoint()});
    EXPECT_EQ(c.wait(), "echo: hello");
  }  // the client goes while connected
  EXPECT_EQ(down.get_future().wait_for(20s), std::future_status::ready);
}

// duplex chat's Session owns its client and dies with it: once the client's destructor has
// begun, the connection must call none of the callbacks that reach into its owner.
TEST(TcpClient, DestroyedWhileConnectedCallsNoCallbackFromThenOn) {
  std::promise<void> server_saw_close;
  EchoServer server({}, [&](TcpServer& s) {
    s.set_connection_callback([&](const TcpConnectionPtr& c) {
      if (!c->connected()) server_saw_close.set_value();
    });
  });
  LoopRunner runner;
  std::unique_ptr<TcpClient> client;
  std::promise<void> up;
  bool destroying = false;  // these two: loop thread only
  int late_calls = 0;
  runner.call([&] {
    client = std::make_unique<TcpClient>(runner.loop(), std::vector{server.endpoint()}, "c");
    client->set_connection_callback([&](const TcpConnectionPtr& c) {
      if (destroying)
        ++late_calls;
      else if (c->connected())
        up.set_value();
    });
    client->set_message_callback([&](const TcpConnectionPtr&, Buffer&, Clock::time_point) {
      if (destroying) ++late_calls;
    });
    client->set_write_complete_callback([&](const TcpConnectionPtr&) {
      if (destroying) ++late_calls;
    });
    client->connect();
  });
  ASSERT_EQ(up.get_future().wait_for(20s), std::future_status::ready);
  runner.call([&] {
    destroying = true;
    client.reset();
  });
  EXPECT_EQ(server_saw_close.get_future().wait_for(20s), std::future_status::ready);
  EXPECT_EQ(runner.call([&] { return late_calls; }), 0);
}

}  // namespace
}  // namespace duplex::test
