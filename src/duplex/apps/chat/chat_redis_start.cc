// The Redis feed's blocking start and its reading of entries (chat_redis_internal.h).
#include <sys/time.h>

#include <memory>
#include <vector>

#include "duplex/apps/chat/chat_redis_internal.h"
#include "duplex/apps/chat/redis_connection.h"
#include "duplex/base/error.h"
#include "duplex/base/log.h"

namespace duplex::apps::redis_feed {

namespace {

constexpr int kTimeoutMs = 2000;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

class Session {
 public:
  explicit Session(const redis::Url& url, int timeout_ms = kTimeoutMs) : url_(url) {
    const timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    c_.reset(redisConnectWithTimeout(url.host.c_str(), url.port, tv));
    if (!c_) throw Error("cannot reach Redis: out of memory");
    if (c_->err)
      throw Error("cannot reach Redis at " + url.endpoint() + " (" + c_->errstr +
                  "); start redis-server there or fix --redis");
    redisSetTimeout(c_.get(), tv);
    limit_replies(c_->reader, &budget_);
  }

  // A command's reply; throws on a lost connection, a timeout or an answer not in Redis's
  // protocol. An error reply is returned as is.
  Reply run(const std::vector<std::string>& argv) {
    std::vector<const char*> args;
    std::vector<std::size_t> lens;
    for (const auto& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    Reply r(static_cast<redisReply*>(
        redisCommandArgv(c_.get(), static_cast<int>(args.size()), args.data(), lens.data())));
    if (!r)
      throw Error("Redis at " + url_.endpoint() + " did not answer as Redis (" +
                  std::string(c_->errstr) + "); is --redis pointing at a Redis server?");
    return r;
  }

 private:
  const redis::Url& url_;
  ReplyBudget budget_;  // before c_: the context's reader uses it until it is freed
  std::unique_ptr<redisContext, ContextFree> c_;
};

void check_log_in(const redis::Url& url, const redisReply* r, std::string_view what) {
  if (r->type != REDIS_REPLY_ERROR) return;
  const std::string why(text(r));
  if (what == "AUTH")
    throw Error("Redis at " + url.endpoint() + " refused the password (" + why +
                "); fix it in --redis redis://[user]:PASSWORD@host:port or DUPLEX_REDIS_PASSWORD");
  if (why.starts_with("NOAUTH"))
    throw Error("Redis at " + url.endpoint() + " needs a password (" + why +
                "); give it: --redis redis://:PASSWORD@" + url.endpoint() +
                " or DUPLEX_REDIS_PASSWORD");
  throw Error("Redis at " + url.endpoint() + " refused " + std::string(what) + " (" + why +
              "); fix --redis");
}

}  // namespace

std::int64_t message_id(const redis::StreamId& id) {
  if (auto exact = id.message_id()) return *exact;
  // More than 1024 entries in one millisecond of one room: the last id of that millisecond.
  return static_cast<std::int64_t>(id.ms * redis::kSeqPerMs + (redis::kSeqPerMs - 1));
}

std::string_view text(const redisReply* r) {
  return r != nullptr && r->str != nullptr ? std::string_view(r->str, r->len) : std::string_view();
}

std::optional<Entry> parse_entry(const redisReply* e, std::string_view room) {
  if (e == nullptr || e->type != REDIS_REPLY_ARRAY || e->elements != 2) return std::nullopt;
  const redisReply* id = e->element[0];
  const redisReply* fields = e->element[1];
  if (id->type != REDIS_REPLY_STRING || fields->type != REDIS_REPLY_ARRAY) return std::nullopt;
  const auto sid = redis::StreamId::parse(text(id));
  if (!sid) return std::nullopt;
  Entry out;
  out.id = *sid;
  out.message.id = message_id(*sid);
  out.message.room = std::string(room);
  // The entry's time is Redis's clock: one clock for every node.
  out.message.ts_ms = static_cast<std::int64_t>(sid->ms);
  for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
    const std::string_view k = text(fields->element[i]);
    const std::string_view v = text(fields->element[i + 1]);
    if (k == "name")
      out.message.name = v;
    else if (k == "text")
      out.message.text = v;
    else if (k == "via")
      out.message.via = v;
    else if (k == "node")
      out.node = v;
    else if (k == "post")
      out.post = std::strtoull(std::string(v).c_str(), nullptr, 10);
  }
  if (out.message.name.empty() || out.message.text.empty()) return std::nullopt;
  return out;
}

void forget_node(const redis::Url& url, const std::string& node) {
  try {
    Session s(url, 500);
    if (!url.password.empty() && url.user.empty()) s.run({"AUTH", url.password});
    if (!url.password.empty() && !url.user.empty()) s.run({"AUTH", url.user, url.password});
    if (url.db != 0) s.run({"SELECT", std::to_string(url.db)});
    s.run({"DEL", std::string(kPresencePrefix) + node});
    s.run({"SREM", std::string(kNodesSet), node});
  } catch (const Error&) {
    // Unreachable: its presence expires within five seconds.
  }
}

Snapshot open_and_load(const redis::Url& url) {
  Session s(url);
  if (!url.password.empty()) {
    auto r =
        url.user.empty() ? s.run({"AUTH", url.password}) : s.run({"AUTH", url.user, url.password});
    check_log_in(url, r.get(), "AUTH");
  }
  if (url.db != 0) check_log_in(url, s.run({"SELECT", std::to_string(url.db)}).get(), "SELECT");
  auto pong = s.run({"PING"});
  check_log_in(url, pong.get(), "PING");
  if (pong->type != REDIS_REPLY_STATUS || text(pong.get()) != "PONG")
    throw Error("Redis at " + url.endpoint() +
                " did not answer PING with PONG; is --redis pointing at a Redis server?");

  Snapshot snap;
  // The rooms log first: a room made after this read is announced there, after it.
  auto log_last = s.run({"XREVRANGE", std::string(kRoomsLog), "+", "-", "COUNT", "1"});
  if (log_last->type == REDIS_REPLY_ARRAY && log_last->elements == 1)
    if (auto e = log_last->element[0]; e->type == REDIS_REPLY_ARRAY && e->elements == 2)
      if (auto id = redis::StreamId::parse(text(e->element[0]))) snap.rooms_log = *id;
  auto names = s.run({"SMEMBERS", std::string(kRoomsSet)});
  if (names->type == REDIS_REPLY_ERROR)
    throw Error("Redis at " + url.endpoint() + " refused SMEMBERS " + std::string(kRoomsSet) +
                " (" + std::string(text(names.get())) + "); is that key used by something else?");
  for (std::size_t i = 0; i < names->elements; ++i) {
    const std::string room(text(names->element[i]));
    const std::string key = std::string(kRoomPrefix) + room;
    Room& state = snap.rooms[room];
    auto recent = s.run({"XREVRANGE", key, "+", "-", "COUNT", std::to_string(kKeptPerRoom)});
    if (recent->type != REDIS_REPLY_ARRAY) {
      log::warn("redis", "cannot read ", key, ": ", text(recent.get()));
      continue;
    }
    for (std::size_t j = recent->elements; j-- > 0;) {
      const redisReply* entry = recent->element[j];
      if (entry->type == REDIS_REPLY_ARRAY && entry->elements == 2)
        if (auto id = redis::StreamId::parse(text(entry->element[0]))) state.last = *id;
      if (auto e = parse_entry(entry, room)) state.recent.push_back(std::move(e->message));
    }
    auto len = s.run({"XLEN", key});
    if (len->type == REDIS_REPLY_INTEGER) state.count = len->integer;
  }
  return snap;
}

}  // namespace duplex::apps::redis_feed
