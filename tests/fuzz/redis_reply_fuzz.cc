// libFuzzer target for what the chat's Redis feed reads from Redis (apps/chat/chat_redis_*):
// RESP bytes parsed by hiredis's own reader (with the feed's bound on a reply's elements) into
// replies, each read as XREAD/XRANGE gives a
// stream's entries ([key, [[id, [field, value, ...]], ...]] or [[id, [...]], ...]) through
// parse_entry(), as a stream id, and, as text, through the --redis URL parser. A Redis that
// answers garbage must not crash a node. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target redis_reply_fuzz
//   build/fuzz/tests/redis_reply_fuzz -max_total_time=20 tests/fuzz/corpus/redis_reply
// Besides "no crash, no sanitizer report", it checks that an entry that parses has a name
// and a text and the room it was read for, that a stream id that parses prints back as the
// same text, that an exact message id names the same entry again, and that a URL that parses
// has a host and a port.
#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "duplex/apps/chat/chat_redis_internal.h"
#include "duplex/apps/chat/redis_connection.h"
#include "duplex/base/error.h"
#include "duplex/proto/redis_stream.h"
#include "duplex/proto/redis_url.h"

namespace {

using namespace duplex;

// Every entry of a reply shaped as XREAD's or XRANGE's, and any array inside, recursively.
void read_entries(const redisReply* r, int depth) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || depth > 8) return;
  if (const auto e = apps::redis_feed::parse_entry(r, "lobby")) {
    if (e->message.name.empty() || e->message.text.empty() || e->message.room != "lobby")
      std::abort();
    if (e->message.ts_ms != static_cast<std::int64_t>(e->id.ms)) std::abort();
  }
  for (std::size_t i = 0; i < r->elements; ++i) read_entries(r->element[i], depth + 1);
}

void check_stream_id(std::string_view text) {
  const auto id = redis::StreamId::parse(text);
  if (!id) return;
  if (id->to_string() != text) std::abort();
  if (const auto m = id->message_id(); m && redis::StreamId::from_message_id(*m) != *id)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_stream_id(text);
  try {
    const auto url = redis::parse_url(text);
    if (url.host.empty() || url.port == 0) std::abort();
  } catch (const ParseError&) {
  }

  redisReader* reader = redisReaderCreate();
  apps::ReplyBudget budget;
  apps::limit_replies(reader, &budget);  // as every connection of the feed has it
  if (redisReaderFeed(reader, reinterpret_cast<const char*>(data), size) == REDIS_OK) {
    for (int n = 0; n < 64; ++n) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader, &reply) != REDIS_OK || reply == nullptr) break;
      const auto* r = static_cast<const redisReply*>(reply);
      read_entries(r, 0);
      if (r->type == REDIS_REPLY_STRING) check_stream_id(std::string_view(r->str, r->len));
      freeReplyObject(reply);
    }
  }
  redisReaderFree(reader);
  return 0;
}
