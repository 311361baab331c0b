#include "duplex/transport/socket.h"

#include <gtest/gtest.h>
#include <netinet/tcp.h>

#include "duplex/base/error.h"
#include "duplex/transport/tcp_info.h"
#include "loopback.h"

namespace duplex::test {
namespace {

TEST(Socket, ErrnoTextNamesTheErrnoAndItsMeaning) {
  EXPECT_EQ(errno_text(ECONNREFUSED), "ECONNREFUSED (Connection refused)");
}

TEST(Socket, BindErrorsNameTheAddressTheErrnoAndTheFix) {
  Socket a = Socket::tcp(loopback());
  a.bind(loopback());
  a.listen();
  Socket b = Socket::tcp(loopback());
  try {
    b.bind(a.local_endpoint());
    FAIL() << "bound a port in use";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("bind " + a.local_endpoint().to_string()), std::string::npos) << m;
    EXPECT_NE(m.find("EADDRINUSE"), std::string::npos) << m;
  }
}

TEST(Socket, PrivilegedPortMessageNamesTheCapability) {
  const inet::Endpoint http = loopback(80);
  const std::string m = socket_error("bind", EACCES, &http);
  EXPECT_NE(m.find("port 80 needs root or CAP_NET_BIND_SERVICE"), std::string::npos) << m;
}

TEST(Socket, MovingTransfersOwnershipOfTheFd) {
  Socket a = Socket::udp(loopback());
  const int fd = a.fd();
  Socket b(std::move(a));
  EXPECT_EQ(b.fd(), fd);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): specified state
}

TEST(TcpInfo, ReadsTheStateOfAnEstablishedConnection) {
  Socket listener = Socket::tcp(loopback());
  listener.bind(loopback());
  listener.listen();
  Client c(listener.local_endpoint());
  ASSERT_TRUE(c.connected());
  auto info = read_tcp_info(c.fd());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->state, TCP_ESTABLISHED);
  EXPECT_GT(info->mss, 0u);
}

TEST(TcpInfo, IsEmptyForAUdpSocket) {
  Socket u = Socket::udp(loopback());
  EXPECT_FALSE(read_tcp_info(u.fd()).has_value());
}

}  // namespace
}  // namespace duplex::test
