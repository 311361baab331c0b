#include "duplex/reactor/buffer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace duplex {
namespace {

TEST(Buffer, AllocatesNothingUntilTheFirstWrite) {
  Buffer b;
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(b.readable_bytes(), 0u);
  b.append("x");
  EXPECT_GT(b.capacity(), 0u);
}

TEST(Buffer, RetrievesWhatWasAppendedInOrder) {
  Buffer b;
  b.append("hello ");
  b.append("world");
  EXPECT_EQ(b.retrieve_as_string(6), "hello ");
  EXPECT_EQ(b.view(), "world");
  b.retrieve(100);
  EXPECT_TRUE(b.empty());
}

TEST(Buffer, GrowsForLargeAppendsAndKeepsTheBytes) {
  Buffer b;
  std::string big(100'000, 'a');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  b.append(big.substr(0, 10));
  b.append(big.substr(10));
  EXPECT_EQ(b.retrieve_all_as_string(), big);
}

TEST(Buffer, PrependsInFrontOfTheReadableBytesWithoutMovingThem) {
  Buffer b;
  b.append("payload");
  const char* before = b.peek();
  std::uint32_t len = 7;
  b.prepend(&len, sizeof len);
  EXPECT_EQ(b.peek() + sizeof len, before);
  EXPECT_EQ(b.readable_bytes(), 7 + sizeof len);
  EXPECT_EQ(b.view().substr(sizeof len), "payload");
}

TEST(Buffer, PrependsMoreThanTheCheapRoomByMoving) {
  Buffer b;
  b.append("tail");
  std::string head(100, 'h');
  b.prepend(head.data(), head.size());
  EXPECT_EQ(b.view(), head + "tail");
}

TEST(Buffer, ReusesRetrievedSpaceInsteadOfGrowing) {
  Buffer b;
  b.append(std::string(400, 'x'));
  const std::size_t cap = b.capacity();
  b.retrieve(390);
  b.append(std::string(300, 'y'));
  EXPECT_EQ(b.capacity(), cap);
  EXPECT_EQ(b.view(), std::string(10, 'x') + std::string(300, 'y'));
}

TEST(Buffer, ReleasesLargeStorageOnlyWhenEmpty) {
  Buffer b;
  b.append(std::string(200'000, 'z'));
  b.release_if_empty();
  EXPECT_EQ(b.readable_bytes(), 200'000u);
  b.retrieve_all();
  b.release_if_empty();
  EXPECT_EQ(b.capacity(), 0u);
}

TEST(Buffer, ReadFdDrainsMoreThanTheWritableRegionInOneCall) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string data(50'000, 'p');
  ASSERT_EQ(::write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  Buffer b;
  int err = 0;
  EXPECT_EQ(b.read_fd(fds[0], &err), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(b.view(), data);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(Buffer, ReadFdWithRoomForAFullReadFillsTheBufferWithoutGrowing) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string data(50'000, 'q');
  ASSERT_EQ(::write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  Buffer b;
  b.append("ab", 2);
  b.ensure_writable(Buffer::kExtraReadSize);
  const std::size_t capacity = b.capacity();
  int err = 0;
  EXPECT_EQ(b.read_fd(fds[0], &err), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(b.view(), "ab" + data);
  EXPECT_EQ(b.capacity(), capacity);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(Buffer, ReadFdWithRoomForAFullReadReportsTheErrnoOfAFailedRead) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  ::close(fds[0]);
  Buffer b;
  b.ensure_writable(Buffer::kExtraReadSize);
  int err = 0;
  EXPECT_EQ(b.read_fd(fds[0], &err), -1);
  EXPECT_EQ(err, EBADF);
}

TEST(Buffer, ReadFdReportsTheErrnoOfAFailedRead) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  ::close(fds[0]);
  Buffer b;
  int err = 0;
  EXPECT_EQ(b.read_fd(fds[0], &err), -1);
  EXPECT_EQ(err, EBADF);
}

TEST(Buffer, MovesLeaveTheSourceEmpty) {
  Buffer a;
  a.append("abc");
  Buffer b(std::move(a));
  EXPECT_EQ(b.view(), "abc");
  EXPECT_EQ(a.readable_bytes(), 0u);  // NOLINT(bugprone-use-after-move): specified state
  EXPECT_EQ(a.capacity(), 0u);        // NOLINT(bugprone-use-after-move)
}

}  // namespace
}  // namespace duplex
