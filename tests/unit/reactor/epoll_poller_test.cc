// The epoll back-end (internal to reactor/).
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include "duplex/reactor/channel.h"
#include "duplex/reactor/poller.h"

namespace duplex {
namespace {

// The lowest free descriptor: the next one the kernel hands out.
int lowest_free_fd() {
  const int fd = ::dup(STDERR_FILENO);
  ::close(fd);
  return fd;
}

// epoll_wait fails for good (EBADF, EINVAL) only when its fd is broken; retrying would spin
// at 100% CPU. The poller says so and stops instead.
TEST(EpollPollerDeathTest, AnEpollWaitThatFailsForGoodAbortsNamingTheError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        const int expected = lowest_free_fd();
        auto poller = make_epoll_poller();
        char link[PATH_MAX] = {};
        const std::string path = "/proc/self/fd/" + std::to_string(expected);
        if (::readlink(path.c_str(), link, sizeof link - 1) < 0 ||
            std::string(link) != "anon_inode:[eventpoll]")
          std::abort();                   // not the poller's fd: the test cannot work here
        ::dup2(STDERR_FILENO, expected);  // no longer an epoll fd: EINVAL from now on
        std::vector<Channel*> ready;
        for (int i = 0; i < 1000; ++i) poller->poll(0, ready);
        std::exit(0);
      },
      "epoll_wait");
}

}  // namespace
}  // namespace duplex
