#include "duplex/proto/redis_url.h"

#include <gtest/gtest.h>

#include "duplex/base/error.h"
#include "duplex/proto/redis_stream.h"

namespace duplex::redis {
namespace {

TEST(RedisUrl, HostAndPortAlone) {
  const Url u = parse_url("redis://127.0.0.1:6380");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.user, "");
  EXPECT_EQ(u.password, "");
  EXPECT_EQ(u.db, 0);
}

TEST(RedisUrl, PortDefaultsTo6379) { EXPECT_EQ(parse_url("redis://cache.lan").port, 6379); }

TEST(RedisUrl, UserPasswordAndDatabase) {
  const Url u = parse_url("redis://chat:s3cr%40t@redis.lan:6379/2");
  EXPECT_EQ(u.user, "chat");
  EXPECT_EQ(u.password, "s3cr@t");
  EXPECT_EQ(u.host, "redis.lan");
  EXPECT_EQ(u.db, 2);
}

TEST(RedisUrl, PasswordWithoutUser) {
  const Url u = parse_url("redis://:pw@localhost:7000");
  EXPECT_EQ(u.user, "");
  EXPECT_EQ(u.password, "pw");
}

TEST(RedisUrl, Ipv6InBrackets) {
  const Url u = parse_url("redis://[::1]:6390/1");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 6390);
  EXPECT_EQ(u.endpoint(), "[::1]:6390");
}

TEST(RedisUrl, RedactedHidesThePassword) {
  EXPECT_EQ(parse_url("redis://u:secret@h:1/3").redacted(), "redis://u:***@h:1/3");
  EXPECT_EQ(parse_url("redis://h").redacted(), "redis://h:6379");
}

// Each refusal is one line that says what to write instead.
void expect_refused(const char* text, const char* fragment) {
  try {
    parse_url(text);
    ADD_FAILURE() << text << " was accepted";
  } catch (const ParseError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
    EXPECT_NE(what.find("redis://[user:password@]host[:port][/db]"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(RedisUrl, RefusesWhatItCannotUse) {
  expect_refused("127.0.0.1:6379", "must start with redis://");
  expect_refused("http://h:1", "must start with redis://");
  expect_refused("rediss://h:1", "TLS");
  expect_refused("redis://", "host is missing");
  expect_refused("redis://:6379", "host is missing");
  expect_refused("redis://h:0", "port '0'");
  expect_refused("redis://h:65536", "port '65536'");
  expect_refused("redis://h:", "port ''");
  expect_refused("redis://h:x1", "port 'x1'");
  expect_refused("redis://h:1/x", "database '/x'");
  expect_refused("redis://h:1/", "followed by the database");
  expect_refused("redis://h:1/-1", "database");
  expect_refused("redis://user@h:1", "need a colon");
  expect_refused("redis://u:@h:1", "password after ':' is empty");
  expect_refused("redis://u:%4@h:1", "escape");
  expect_refused("redis://h:1?db=2", "query");
  expect_refused("redis://::1:6379", "IPv6 address goes in brackets");
  expect_refused("redis://[::1", "no ']'");
  expect_refused("redis://[::1]x", "only :port");
  expect_refused("redis://h h:1", "holds ' '");
}

TEST(RedisStreamId, ParsesAndPrints) {
  const auto id = StreamId::parse("1764470000123-7");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->ms, 1764470000123u);
  EXPECT_EQ(id->seq, 7u);
  EXPECT_EQ(id->to_string(), "1764470000123-7");
  EXPECT_EQ(StreamId::parse("0-0")->to_string(), "0-0");
}

TEST(RedisStreamId, RefusesAnythingButTwoDecimalParts) {
  for (const char* bad : {"", "-", "1-", "-1", "1", "1-2-3", "a-1", "1-b", " 1-2", "1-2 ", "+1-2",
                          "99999999999999999999999-0", "01-2", "1-02", "1764004700-005"})
    EXPECT_FALSE(StreamId::parse(bad)) << bad;
}

TEST(RedisStreamId, OrdersByMillisecondsThenSequence) {
  EXPECT_LT((StreamId{5, 9}), (StreamId{6, 0}));
  EXPECT_LT((StreamId{5, 1}), (StreamId{5, 2}));
  EXPECT_EQ((StreamId{5, 1}), (StreamId{5, 1}));
}

TEST(RedisStreamId, MessageIdIsExactAndRoundTrips) {
  const StreamId id{1764470000123, 1023};
  const auto m = id.message_id();
  ASSERT_TRUE(m);
  EXPECT_LT(*m, std::int64_t{1} << 53);  // a JavaScript number holds it exactly
  EXPECT_EQ(StreamId::from_message_id(*m), id);
  // Order is kept: the next millisecond's first entry comes after.
  EXPECT_LT(*m, *(StreamId{1764470000124, 0}.message_id()));
}

TEST(RedisStreamId, MessageIdRefusesWhatIsNotExact) {
  EXPECT_FALSE((StreamId{1764470000123, 1024}.message_id()));
  EXPECT_FALSE((StreamId{std::uint64_t{1} << 44, 0}.message_id()));
}

}  // namespace
}  // namespace duplex::redis
