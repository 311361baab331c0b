// The Redis feed's reading of stream entries (chat_redis_internal.h), from RESP bytes as
// XREAD and XRANGE send them, parsed by hiredis's own reader.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/chat/chat_redis_internal.h"
#include "duplex/apps/chat/redis_connection.h"

namespace duplex::apps::redis_feed {
namespace {

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

// One entry, [id, [field, value, ...]], in RESP2.
Reply entry(const std::string& id, const std::vector<std::string>& fields) {
  std::string wire = "*2\r\n" + bulk(id) + "*" + std::to_string(fields.size()) + "\r\n";
  for (const auto& f : fields) wire += bulk(f);
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, wire.data(), wire.size());
  void* out = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &out), REDIS_OK);
  redisReaderFree(reader);
  return Reply(static_cast<redisReply*>(out));
}

TEST(ChatRedisEntry, AnEntryBecomesAMessageWithItsStreamIdAndRedisTime) {
  const auto r = entry("1764470000123-2", {"name", "alice", "text", "hi there", "via", "websocket",
                                           "node", "n1", "post", "17"});
  const auto e = parse_entry(r.get(), "lobby");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, (redis::StreamId{1764470000123, 2}));
  EXPECT_EQ(e->message.id, 1764470000123 * 1024 + 2);
  EXPECT_EQ(e->message.ts_ms, 1764470000123);
  EXPECT_EQ(e->message.room, "lobby");
  EXPECT_EQ(e->message.name, "alice");
  EXPECT_EQ(e->message.text, "hi there");
  EXPECT_EQ(e->message.via, "websocket");
  EXPECT_EQ(e->node, "n1");
  EXPECT_EQ(e->post, 17u);
}

TEST(ChatRedisEntry, EntriesTheChatDidNotWriteAreSkipped) {
  EXPECT_FALSE(parse_entry(entry("1-0", {"text", "no name"}).get(), "lobby"));
  EXPECT_FALSE(parse_entry(entry("1-0", {"name", "alice"}).get(), "lobby"));
  EXPECT_FALSE(parse_entry(entry("not-an-id", {"name", "a", "text", "t"}).get(), "lobby"));
  EXPECT_FALSE(parse_entry(nullptr, "lobby"));
}

TEST(ChatRedisEntry, PastAThousandEntriesInOneMillisecondTheIdStaysInThatMillisecond) {
  const redis::StreamId crowded{1764470000123, 5000};
  EXPECT_EQ(message_id(crowded), 1764470000123 * 1024 + 1023);
  EXPECT_LT(message_id(crowded), message_id(redis::StreamId{1764470000124, 0}));
}

// A reader with the feed's bound, fed `wire`: the reply, or null with the reader's error.
Reply read_limited(const std::string& wire, std::string* error) {
  redisReader* reader = redisReaderCreate();
  ReplyBudget budget;
  limit_replies(reader, &budget);
  redisReaderFeed(reader, wire.data(), wire.size());
  void* out = nullptr;
  if (redisReaderGetReply(reader, &out) != REDIS_OK) *error = reader->errstr;
  redisReaderFree(reader);
  return Reply(static_cast<redisReply*>(out));
}

TEST(ChatRedisEntry, AReplyOfMoreArrayElementsThanTheChatAsksForIsRefusedNotAllocated) {
  std::string error;
  // One array header claiming two billion elements: refused before any allocation.
  EXPECT_FALSE(read_limited("*2000000000\r\n", &error));
  EXPECT_NE(error, "");
  // Nested arrays count together: three of 400,000 are past the bound, though none alone is.
  std::string nested = "*3\r\n*400000\r\n";
  for (int i = 0; i < 400000; ++i) nested += ":1\r\n";
  nested += "*400000\r\n";
  for (int i = 0; i < 400000; ++i) nested += ":1\r\n";
  nested += "*400000\r\n";
  error.clear();
  EXPECT_FALSE(read_limited(nested, &error));
  EXPECT_NE(error, "");
  // A reply the size the chat reads (XREVRANGE COUNT 1000 of 12 elements each) passes.
  std::string big = "*1000\r\n";
  for (int i = 0; i < 1000; ++i) big += "*2\r\n$3\r\n1-1\r\n*2\r\n$4\r\nname\r\n$1\r\na\r\n";
  error.clear();
  const Reply r = read_limited(big, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->elements, 1000u);
}

}  // namespace
}  // namespace duplex::apps::redis_feed
