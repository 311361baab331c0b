// apps/perf: UDP datagrams in batches (perf_udp_batch). What goes on the wire must be what
// iperf3 sends one datagram at a time: each datagram of the stream's length, each with its
// own header and the next sequence number, whether the kernel segments (UDP_SEGMENT on
// loopback) or sendmmsg() sends them; and recvmmsg() hands them back one by one.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "duplex/apps/perf/perf_udp_batch.h"

namespace duplex::apps::perf {
namespace {

struct Pair {
  int tx = -1, rx = -1;
  Pair() {
    rx = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    tx = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::getsockname(rx, reinterpret_cast<sockaddr*>(&a), &len), 0);
    EXPECT_EQ(::connect(tx, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const int big = 4 << 20;
    ::setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  }
  ~Pair() {
    ::close(tx);
    ::close(rx);
  }
};

// Receives `want` datagrams with recvmmsg (waiting up to 5 s for each batch).
std::vector<std::string> receive(int fd, std::size_t size, std::size_t want) {
  std::vector<std::string> got;
  std::vector<char> buffers(16 * size);
  std::size_t lengths[16];
  while (got.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) break;
    const long n = receive_datagrams(fd, buffers.data(), size, 16, lengths);
    if (n <= 0) break;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i)
      got.emplace_back(buffers.data() + i * size, std::min(lengths[i], size));
  }
  return got;
}

void expect_stream(const std::vector<std::string>& got, std::size_t size, std::uint64_t first,
                   bool wide) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].size(), size) << "datagram " << i;
    const auto h = decode_udp_header(got[i], wide);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->sequence, first + i) << "datagram " << i;
  }
}

TEST(UdpBatch, FillWritesOneHeaderPerDatagram) {
  std::vector<char> out(5 * 100, 'x');
  UdpHeader t{7, 9, 0};
  fill_datagrams(out.data(), 100, 5, 41, t, true);
  for (std::size_t i = 0; i < 5; ++i) {
    const auto h = decode_udp_header(std::string_view(out.data() + i * 100, 100), true);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->sec, 7u);
    EXPECT_EQ(h->usec, 9u);
    EXPECT_EQ(h->sequence, 41 + i);
    EXPECT_EQ(out[i * 100 + 16], 'x');  // the padding is left alone
  }
}

TEST(UdpBatch, SendsEqualNumberedDatagramsOnLoopback) {
  for (const bool wide : {false, true}) {
    Pair pair;
    UdpBatchSender sender(1448, wide);
    ASSERT_GE(sender.max_datagrams(), 40u);
    std::uint64_t next = 1;
    for (int round = 0; round < 3; ++round) {
      const long n = sender.send(pair.tx, next, sender.max_datagrams());
      ASSERT_GT(n, 0) << std::strerror(errno);
      next += static_cast<std::uint64_t>(n);
    }
    const auto got = receive(pair.rx, 1448, next - 1);
    ASSERT_EQ(got.size(), next - 1);
    expect_stream(got, 1448, 1, wide);
  }
}

TEST(UdpBatch, FallsBackToSendmmsgWhenSegmentationIsRefused) {
  // Datagrams too long for two in 64 KiB: no segmentation, one at a time.
  Pair pair;
  UdpBatchSender big(40000, false);
  EXPECT_FALSE(big.segmenting());
  ASSERT_EQ(big.send(pair.tx, 1, 4), 4);  // by sendmmsg
  // A socket that refuses UDP_SEGMENT (here not even UDP): the sender stops trying.
  const int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
  UdpBatchSender sender(1000, false);
  EXPECT_TRUE(sender.segmenting());
  EXPECT_LT(sender.send(tcp, 1, 8), 0);  // not connected: sendmmsg fails too
  EXPECT_FALSE(sender.segmenting());
  ::close(tcp);
  const auto received_big = receive(pair.rx, 40000, 4);
  ASSERT_EQ(received_big.size(), 4u);
  expect_stream(received_big, 40000, 1, false);
}

TEST(UdpBatch, ReceiveReportsTheRealLengthOfALongDatagram) {
  Pair pair;
  std::vector<char> d(300, 0);
  ASSERT_EQ(::send(pair.tx, d.data(), d.size(), 0), 300);
  pollfd p{pair.rx, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  std::vector<char> buffer(4 * 100);
  std::size_t lengths[4];
  ASSERT_EQ(receive_datagrams(pair.rx, buffer.data(), 100, 4, lengths), 1);
  EXPECT_EQ(lengths[0], 300u);
  EXPECT_EQ(receive_datagrams(pair.rx, buffer.data(), 100, 4, lengths), 0);  // none waits
}

}  // namespace
}  // namespace duplex::apps::perf
