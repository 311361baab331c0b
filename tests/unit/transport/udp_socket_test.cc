#include "duplex/transport/udp_socket.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "../prerequisite.h"
#include "duplex/base/error.h"
#include "loopback.h"

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

// Receivers in one loop thread; each reports the first datagram it gets.
struct Receivers {
  LoopRunner runner;
  std::vector<std::unique_ptr<UdpSocket>> sockets;
  std::vector<std::promise<std::string>> got;

  Receivers(std::size_t n, const inet::Endpoint& bind, UdpOptions options,
            const std::function<void(UdpSocket&)>& setup = {})
      : got(n) {
    runner.call([&] {
      for (std::size_t i = 0; i < n; ++i) {
        auto s = std::make_unique<UdpSocket>(runner.loop(), i == 0 ? bind : sockets[0]->local(),
                                             options);
        if (setup) setup(*s);
        s->start_reading([this, i, done = false](std::span<const Datagram> batch) mutable {
          if (!done) got[i].set_value(std::string(batch[0].data));
          done = true;
        });
        sockets.push_back(std::move(s));
      }
    });
  }
  std::uint16_t port() const { return sockets[0]->local().port(); }
  std::size_t count(const std::string& expected) {
    std::size_t n = 0;
    for (auto& p : got) {
      auto f = p.get_future();
      if (f.wait_for(5s) == std::future_status::ready && f.get() == expected) ++n;
    }
    return n;
  }
  ~Receivers() {
    runner.call([&] { sockets.clear(); });
  }
};

TEST(UdpSocket, EchoesDatagramsBackToTheirSender) {
  LoopRunner runner;
  std::unique_ptr<UdpSocket> server;
  runner.call([&] {
    server = std::make_unique<UdpSocket>(runner.loop(), loopback());
    server->start_reading([&](std::span<const Datagram> batch) { server->send_batch(batch); });
  });
  LoopRunner client_loop;
  std::promise<std::vector<std::string>> replies;
  std::unique_ptr<UdpSocket> client;
  client_loop.call([&] {
    client = std::make_unique<UdpSocket>(client_loop.loop(), loopback());
    client->start_reading([&, all = std::vector<std::string>()](auto batch) mutable {
      for (const Datagram& d : batch) {
        EXPECT_EQ(d.peer, server->local());
        all.emplace_back(d.data);
      }
      if (all.size() == 3) replies.set_value(all);
    });
    for (const char* m : {"one", "two", "three"}) client->send_to(m, server->local());
  });
  auto f = replies.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), (std::vector<std::string>{"one", "two", "three"}));
  client_loop.call([&] { client.reset(); });
  runner.call([&] { server.reset(); });
}

TEST(UdpSocket, BroadcastToTheLoopbackNetworkReachesEverySocketOnThePort) {
  UdpOptions options;
  options.reuse_addr = true;
  Receivers r(3, inet::Endpoint::parse("0.0.0.0:0"), options);
  LoopRunner runner;
  runner.call([&] {
    UdpSocket sender(runner.loop(), loopback());
    sender.set_broadcast(true);
    EXPECT_EQ(sender.send_to("to all",
                             inet::Endpoint::parse("127.255.255.255:" + std::to_string(r.port()))),
              0);
  });
  EXPECT_EQ(r.count("to all"), 3u);
}

TEST(UdpSocket, BroadcastWithoutSoBroadcastIsRefused) {
  LoopRunner runner;
  int err = runner.call([&] {
    UdpSocket sender(runner.loop(), loopback());
    return sender.send_to("x", inet::Endpoint::parse("127.255.255.255:9"));
  });
  EXPECT_EQ(err, EACCES);
}

TEST(UdpSocket, MulticastOnLoopbackReachesEveryMemberOverIpv4) {
  const unsigned lo = interface_index("lo");
  const auto group = inet::Address::parse("224.0.0.199");
  UdpOptions options;
  options.reuse_addr = true;
  Receivers r(3, inet::Endpoint::parse("0.0.0.0:0"), options,
              [&](UdpSocket& s) { s.join_group(group, lo); });
  LoopRunner runner;
  runner.call([&] {
    UdpSocket sender(runner.loop(), inet::Endpoint::parse("0.0.0.0:0"));
    sender.set_multicast_interface(lo);
    sender.set_multicast_ttl(1);
    sender.set_multicast_loop(true);
    EXPECT_EQ(sender.send_to("group", inet::Endpoint(group, r.port())), 0);
  });
  EXPECT_EQ(r.count("group"), 3u);
}

// Linux routes no IPv6 multicast over lo (not even with its MULTICAST flag), so this test
// makes a network namespace of its own with a veth pair (root and iproute2 needed; skipped
// otherwise). A thread unshares the namespace; the loop threads it starts inherit it, and
// the traffic never leaves it.
bool enter_private_netns_with_veth() {
  if (::unshare(CLONE_NEWNET) != 0) return false;
  // No duplicate address detection: the link-local source address is usable at once.
  if (FILE* f = std::fopen("/proc/sys/net/ipv6/conf/default/accept_dad", "w")) {
    std::fputs("0", f);
    std::fclose(f);
  }
  return std::system(
             "ip link add dx0 type veth peer name dx1 && ip link set dx0 up && "
             "ip link set dx1 up") == 0;
}

TEST(UdpSocket, MulticastReachesEveryMemberOverIpv6) {
  std::string skip;
  std::thread in_netns([&] {
    if (!enter_private_netns_with_veth()) {
      skip = "cannot make a network namespace with a veth pair here (needs root, iproute2)";
      return;
    }
    const unsigned dev = interface_index("dx0");
    for (const char* text : {"ff02::1:3", "ff01::1234"}) {  // link- and interface-local
      const auto group = inet::Address::parse(text);
      UdpOptions options;
      options.reuse_addr = true;
      Receivers r(2, inet::Endpoint::parse("[::]:0"), options,
                  [&](UdpSocket& s) { s.join_group(group, dev); });
      LoopRunner runner;
      const int err = runner.call([&] {
        UdpSocket sender(runner.loop(), inet::Endpoint::parse("[::]:0"));
        sender.set_multicast_interface(dev);
        sender.set_multicast_loop(true);
        sender.set_multicast_ttl(1);
        return sender.send_to("group6", inet::Endpoint(group, r.port()));
      });
      EXPECT_EQ(err, 0) << text << ": " << errno_text(err);
      EXPECT_EQ(r.count("group6"), 2u) << text;
    }
  });
  in_netns.join();
  if (!skip.empty()) DUPLEX_SKIP_UNLESS_CI(skip);
}

TEST(UdpSocket, JoiningAUnicastAddressIsRefusedWithTheReason) {
  LoopRunner runner;
  runner.call([&] {
    UdpSocket s(runner.loop(), loopback());
    try {
      s.join_group(inet::Address::parse("10.0.0.1"));
      ADD_FAILURE() << "joined a unicast address";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("not a multicast group"), std::string::npos);
    }
  });
}

TEST(UdpSocket, ConnectedSocketSendsWithoutAnAddress) {
  Receivers r(1, loopback(), {});
  LoopRunner runner;
  runner.call([&] {
    UdpSocket s(runner.loop(), loopback());
    s.connect(loopback(r.port()));
    EXPECT_EQ(s.send("connected"), 0);
  });
  EXPECT_EQ(r.count("connected"), 1u);
}

TEST(UdpSocket, ConnectedSocketReportsIcmpPortUnreachableOnce) {
  LoopRunner runner;
  std::unique_ptr<UdpSocket> s;
  std::promise<int> error;
  int reports = 0;
  runner.call([&] {
    // A port that was just free: the kernel answers datagrams to it with ICMP.
    const std::uint16_t closed = UdpSocket(runner.loop(), loopback()).local().port();
    s = std::make_unique<UdpSocket>(runner.loop(), loopback());
    s->on_error([&](int err) {
      if (++reports == 1) error.set_value(err);
    });
    s->start_reading([](std::span<const Datagram>) {});
    s->connect(loopback(closed));
    EXPECT_EQ(s->send("anyone?"), 0);
  });
  auto f = error.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), ECONNREFUSED);
  // Read and cleared by the report: the next loop round has nothing more to say.
  EXPECT_EQ(runner.call([&] { return reports; }), 1);
  runner.call([&] { s.reset(); });
}

TEST(UdpSocket, SendBatchSendsEveryDatagram) {
  LoopRunner runner;
  std::promise<std::size_t> received;
  std::unique_ptr<UdpSocket> sink;
  runner.call([&] {
    sink = std::make_unique<UdpSocket>(runner.loop(), loopback());
    sink->start_reading([&, n = std::size_t{0}](auto batch) mutable {
      n += batch.size();
      if (n == 100) received.set_value(n);
    });
  });
  std::size_t sent = runner.call([&] {
    UdpSocket s(runner.loop(), loopback());
    std::vector<Datagram> batch(100, Datagram{"d", sink->local(), false});
    return s.send_batch(batch);
  });
  EXPECT_EQ(sent, 100u);
  auto f = received.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), 100u);
  runner.call([&] { sink.reset(); });
}

}  // namespace
}  // namespace duplex::test
