// The Redis feed's reading of stream entries (chat_redis_internal.h), from RESP bytes as
// XREAD and XRANGE send them, parsed by hiredis's own reader.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/chat/chat_redis_internal.h"

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

}  // namespace
}  // namespace duplex::apps::redis_feed
