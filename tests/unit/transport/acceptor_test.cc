#include "duplex/transport/acceptor.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "duplex/reactor/event_loop.h"
#include "loopback.h"

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

// ENOBUFS/ENOMEM: the kernel is short of memory and the connection is still pending, so
// the level-triggered listener rings again at once. Accepting pauses for a back-off
// instead of retrying in a busy loop (as nginx does).
TEST(Acceptor, OutOfMemoryFromAcceptPausesAcceptingForABackOff) {
  for (const int injected : {ENOBUFS, ENOMEM}) {
    EventLoop loop;
    Socket listener = Socket::tcp(loopback());
    listener.bind(loopback());
    listener.listen(16);
    const inet::Endpoint where = listener.local_endpoint();
    std::vector<Clock::time_point> calls;
    int accepted = 0;
    Acceptor acceptor(&loop, std::move(listener), [&](Socket, const inet::Endpoint&) {
      ++accepted;
      loop.quit();
    });
    acceptor.set_accept_function([&](Socket& s, inet::Endpoint* peer) {
      calls.push_back(Clock::now());
      if (calls.size() == 1) {
        errno = injected;
        return -1;
      }
      return s.accept(peer);
    });
    acceptor.start();
    Client client(where);
    ASSERT_TRUE(client.connected());
    loop.run_after(5s, [&] { loop.quit(); });
    loop.loop();
    EXPECT_EQ(accepted, 1) << "errno " << injected;
    ASSERT_GE(calls.size(), 2u) << "errno " << injected;
    // The retry waits at least the back-off; a busy loop would retry in microseconds.
    EXPECT_GE(calls[1] - calls[0], 50ms) << "errno " << injected;
  }
}

}  // namespace
}  // namespace duplex::test
