#include "duplex/apps/chat/chat_redis_feed.h"

#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "duplex/apps/chat/chat_redis_internal.h"
#include "duplex/apps/chat/redis_connection.h"
#include "duplex/base/error.h"
#include "duplex/base/log.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps {

namespace {

using namespace redis_feed;

constexpr std::chrono::seconds kHeartbeat{1};
constexpr const char* kPresenceTtlMs = "5000";  // five heartbeats
constexpr const char* kReadCount = "500";       // entries per XREAD reply, at most
constexpr const char* kReadBlockMs = "2000";    // then the rooms set is read again
constexpr const char* kRoomsLogLen = "1000";

std::string default_node() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", rd());
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + suffix;
}

}  // namespace

struct ChatRedisFeed::Impl {
  struct Waiting {
    ChatMessage message;
    Stored on_stored;
    Failed on_failed;
  };

  Impl(EventLoop* l, ChatRedisOptions o)
      : loop(l), options(std::move(o)), where(options.url.redacted()) {
    if (options.node.empty()) options.node = default_node();
    Snapshot snap = open_and_load(options.url);  // throws: the caller stops
    rooms = std::move(snap.rooms);
    rooms_log = snap.rooms_log;
    commands = std::make_unique<RedisConnection>(
        loop, options.url, "commands",
        [this](bool up, std::string_view why) { on_commands(up, why); });
    // Its losses go to the debug log (the commands connection warns of an outage); up
    // again, it reads on from where it stopped.
    reader = std::make_unique<RedisConnection>(loop, options.url, "reader",
                                               [this](bool up, std::string_view) {
                                                 if (up) refresh_rooms_then_read();
                                               });
    commands->start();
    reader->start();
    heartbeat = loop->run_every(kHeartbeat, [this] { beat(); });
  }

  ~Impl() {
    loop->cancel(heartbeat);
    // Its members leave every other node's /who now rather than when the presence expires.
    if (commands->up()) forget_node(options.url, options.node);
  }

  void on_commands(bool up, std::string_view why) {
    // Posts that came before the first connection was made (the start's check passed a
    // moment ago): sent now, or refused with the reason.
    auto early = std::exchange(before_first, {});
    first_attempt_done = true;
    if (up) {
      for (auto& w : early)
        post(std::move(w.message), std::move(w.on_stored), std::move(w.on_failed));
      if (was_down) log::warn("redis", "connection to ", where, " is back; posts are taken again");
      was_down = false;
      beat();
      return;
    }
    commands_error = why;
    for (auto& w : early)
      post(std::move(w.message), std::move(w.on_stored), std::move(w.on_failed));
    if (!was_down)
      log::warn("redis", "connection to ", where, " lost (", why,
                "); posts are refused until it is back");
    was_down = true;
  }

  // --- posting ---------------------------------------------------------------------------

  void post(ChatMessage m, Stored on_stored, Failed on_failed) {
    if (!first_attempt_done) {
      before_first.push_back(Waiting{std::move(m), std::move(on_stored), std::move(on_failed)});
      return;
    }
    if (!commands->up()) {
      if (on_failed)
        on_failed("not stored: Redis at " + options.url.endpoint() + " is unreachable (" +
                  commands_error + "); try again shortly");
      return;
    }
    const std::uint64_t seq = ++next_post;
    const std::string room = m.room;
    std::vector<std::string> argv{"XADD",
                                  std::string(kRoomPrefix) + room,
                                  "MAXLEN",
                                  "~",
                                  std::to_string(options.max_len),
                                  "*",
                                  "name",
                                  m.name,
                                  "text",
                                  m.text,
                                  "via",
                                  m.via,
                                  "node",
                                  options.node,
                                  "post",
                                  std::to_string(seq)};
    waiting.emplace(seq, Waiting{std::move(m), std::move(on_stored), std::move(on_failed)});
    const bool sent = commands->command(
        argv,
        [this, seq](const redisReply* r, std::string_view error) { answered(seq, r, error); });
    if (!sent) return answered(seq, nullptr, "not connected");
    // A new room is announced on the rooms log, after its first entry: every node's XREAD
    // then reads it from the start.
    commands->command({"SADD", std::string(kRoomsSet), room}, [this, room](const redisReply* r,
                                                                           std::string_view) {
      if (r != nullptr && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
        commands->command(
            {"XADD", std::string(kRoomsLog), "MAXLEN", "~", kRoomsLogLen, "*", "room", room}, {});
    });
  }

  // The answer to a post's XADD (unless its entry came back through XREAD first).
  void answered(std::uint64_t seq, const redisReply* r, std::string_view error) {
    auto it = waiting.find(seq);
    if (it == waiting.end()) return;
    Waiting w = std::move(it->second);
    waiting.erase(it);
    std::optional<redis::StreamId> id;
    if (r != nullptr && r->type == REDIS_REPLY_STRING) id = redis::StreamId::parse(text(r));
    if (!id) {
      std::string why;
      if (r == nullptr)
        why = "not acknowledged: the connection to Redis was lost (" + std::string(error) +
              "); it may still appear, else send it again";
      else
        why = "not stored: Redis refused it (" + std::string(text(r)) + ")";
      log_failure(why);
      if (w.on_failed) w.on_failed(why);
      return;
    }
    w.message.id = message_id(*id);
    w.message.ts_ms = static_cast<std::int64_t>(id->ms);
    if (w.on_stored) w.on_stored(w.message);
  }

  // The operator hears of failed posts once a second at most, with how many: a burst
  // during an outage must not flood the log (nor block on a full stderr pipe).
  void log_failure(const std::string& why) {
    if (failed_posts++ > 0) return;
    log::error("redis", "a post failed: ", why);
    loop->run_after(std::chrono::seconds(1), [this, alive = std::weak_ptr<bool>(alive)] {
      if (!alive.lock()) return;
      if (failed_posts > 1)
        log::error("redis", failed_posts - 1, " more posts failed in the second after it");
      failed_posts = 0;
    });
  }

  // --- reading ---------------------------------------------------------------------------

  // The rooms set, for rooms this node has not heard of (made while it was away, or
  // announced by a node that died before its rooms-log entry), then XREAD.
  void refresh_rooms_then_read() {
    reader->command({"SMEMBERS", std::string(kRoomsSet)},
                    [this](const redisReply* r, std::string_view) {
                      if (r == nullptr) return;  // the reader reconnects and comes back here
                      if (r->type == REDIS_REPLY_ARRAY)
                        for (std::size_t i = 0; i < r->elements; ++i)
                          rooms.try_emplace(std::string(text(r->element[i])));
                      read();
                    });
  }

  void read() {
    std::vector<std::string> argv{
        "XREAD", "COUNT", kReadCount, "BLOCK", kReadBlockMs, "STREAMS", std::string(kRoomsLog)};
    for (const auto& [room, state] : rooms) argv.push_back(std::string(kRoomPrefix) + room);
    argv.push_back(rooms_log.to_string());
    for (const auto& [room, state] : rooms) argv.push_back(state.last.to_string());
    reader->command(argv, [this](const redisReply* r, std::string_view) {
      if (r != nullptr) on_read(r);
    });
  }

  void on_read(const redisReply* r) {
    if (r->type == REDIS_REPLY_NIL) return refresh_rooms_then_read();  // BLOCK timed out
    if (r->type != REDIS_REPLY_ARRAY) {
      log::error("redis", "XREAD refused (", text(r), "); trying again in a second");
      loop->run_after(std::chrono::seconds(1), [this, alive = std::weak_ptr<bool>(alive)] {
        if (alive.lock() && reader->up()) refresh_rooms_then_read();
      });
      return;
    }
    for (std::size_t i = 0; i < r->elements; ++i) {
      const redisReply* stream = r->element[i];
      if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) continue;
      const std::string_view key = text(stream->element[0]);
      const redisReply* entries = stream->element[1];
      if (entries->type != REDIS_REPLY_ARRAY) continue;
      if (key == kRoomsLog)
        learn_rooms(entries);
      else if (key.starts_with(kRoomPrefix))
        deliver_entries(std::string(key.substr(kRoomPrefix.size())), entries);
    }
    read();
  }

  void learn_rooms(const redisReply* entries) {
    for (std::size_t j = 0; j < entries->elements; ++j) {
      const redisReply* e = entries->element[j];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
      if (auto id = redis::StreamId::parse(text(e->element[0]))) rooms_log = *id;
      const redisReply* fields = e->element[1];
      for (std::size_t k = 0; fields->type == REDIS_REPLY_ARRAY && k + 1 < fields->elements; k += 2)
        if (text(fields->element[k]) == "room")
          rooms.try_emplace(std::string(text(fields->element[k + 1])));
    }
  }

  void deliver_entries(const std::string& room, const redisReply* entries) {
    Room& state = rooms[room];
    for (std::size_t j = 0; j < entries->elements; ++j) {
      const redisReply* e = entries->element[j];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
      const auto id = redis::StreamId::parse(text(e->element[0]));
      if (!id || *id <= state.last) continue;  // delivered already
      state.last = *id;
      auto entry = parse_entry(e, room);
      if (!entry) continue;
      ++state.count;
      state.recent.push_back(entry->message);
      if (state.recent.size() > kKeptPerRoom) state.recent.pop_front();
      // Our own post, back before the XADD's answer: it is stored, so acknowledge it now,
      // before anyone here sees it.
      if (entry->node == options.node) {
        if (auto w = waiting.find(entry->post); w != waiting.end()) {
          Waiting done = std::move(w->second);
          waiting.erase(w);
          if (done.on_stored) done.on_stored(entry->message);
        }
      }
      if (deliver) deliver(entry->message);
    }
  }

  // --- presence --------------------------------------------------------------------------

  void beat() {
    if (!commands->up()) return;
    std::string list;
    if (local_members)
      for (const auto& [name, room] : local_members()) list += name + "\t" + room + "\n";
    commands->command(
        {"SET", std::string(kPresencePrefix) + options.node, list, "PX", kPresenceTtlMs}, {});
    commands->command({"SADD", std::string(kNodesSet), options.node}, {});
    commands->command({"SMEMBERS", std::string(kNodesSet)},
                      [this](const redisReply* r, std::string_view) {
                        if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return;
                        std::vector<std::string> nodes;
                        for (std::size_t i = 0; i < r->elements; ++i)
                          if (text(r->element[i]) != options.node)
                            nodes.emplace_back(text(r->element[i]));
                        read_presence(std::move(nodes));
                      });
  }

  void read_presence(std::vector<std::string> nodes) {
    if (nodes.empty()) {
      remote.clear();
      peers.clear();
      return;
    }
    std::vector<std::string> argv{"MGET"};
    for (const auto& n : nodes) argv.push_back(std::string(kPresencePrefix) + n);
    commands->command(argv, [this, nodes](const redisReply* r, std::string_view) {
      if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != nodes.size()) return;
      Presence seen;
      peers.clear();
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        const redisReply* v = r->element[i];
        if (v->type != REDIS_REPLY_STRING) {
          // Its presence expired: the node is gone.
          commands->command({"SREM", std::string(kNodesSet), nodes[i]}, {});
          continue;
        }
        peers.push_back(nodes[i]);
        std::string_view rest = text(v);
        while (!rest.empty()) {
          const auto nl = rest.find('\n');
          const std::string_view line = rest.substr(0, nl);
          rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
          const auto tab = line.find('\t');
          if (tab != std::string_view::npos)
            seen.emplace_back(std::string(line.substr(0, tab)), std::string(line.substr(tab + 1)));
        }
      }
      remote = std::move(seen);
    });
  }

  EventLoop* loop;
  ChatRedisOptions options;
  const std::string where;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  Rooms rooms;
  redis::StreamId rooms_log;
  std::map<std::uint64_t, Waiting> waiting;  // posts sent, by their number
  std::uint64_t next_post = 0;
  std::uint64_t failed_posts = 0;     // in the second since the last one logged
  std::vector<Waiting> before_first;  // posts before the first connection attempt ended
  bool first_attempt_done = false;
  std::string commands_error = "not connected yet";
  bool was_down = false;
  Presence remote;
  std::vector<std::string> peers;  // the other live nodes
  Deliver deliver;
  std::function<Presence()> local_members;
  TimerId heartbeat{};
  // Last: destroyed first, dropping their callbacks, which use the fields above.
  std::unique_ptr<RedisConnection> commands;
  std::unique_ptr<RedisConnection> reader;
};

ChatRedisFeed::ChatRedisFeed(EventLoop* loop, ChatRedisOptions options)
    : impl_(std::make_unique<Impl>(loop, std::move(options))) {}

ChatRedisFeed::~ChatRedisFeed() = default;

void ChatRedisFeed::attach(Deliver deliver, std::function<Presence()> local_members) {
  impl_->deliver = std::move(deliver);
  impl_->local_members = std::move(local_members);
}

void ChatRedisFeed::post(ChatMessage message, Stored on_stored, Failed on_failed) {
  impl_->post(std::move(message), std::move(on_stored), std::move(on_failed));
}

ChatMessage ChatRedisFeed::post_now(ChatMessage) {
  throw Error("post_now needs a local chat history; with Redis, post() and wait for the ack");
}

std::vector<ChatMessage> ChatRedisFeed::history(std::string_view room, std::size_t limit) const {
  auto it = impl_->rooms.find(room);
  if (it == impl_->rooms.end()) return {};
  const auto& recent = it->second.recent;
  const std::size_t n = std::min(limit, recent.size());
  return {recent.end() - static_cast<std::ptrdiff_t>(n), recent.end()};
}

std::map<std::string, std::int64_t, std::less<>> ChatRedisFeed::counts() const {
  std::map<std::string, std::int64_t, std::less<>> out;
  for (const auto& [room, state] : impl_->rooms)
    if (state.count > 0) out[room] = state.count;
  return out;
}

std::size_t ChatRedisFeed::unacknowledged() const {
  return impl_->waiting.size() + impl_->before_first.size();
}

ChatFeed::Presence ChatRedisFeed::remote_members() const { return impl_->remote; }

const std::string& ChatRedisFeed::where() const { return impl_->where; }

ChatFeedStatus ChatRedisFeed::status() const {
  ChatFeedStatus s;
  s.kind = "redis";
  s.where = impl_->where;
  s.connected = impl_->commands->up();
  if (!s.connected) s.error = impl_->commands_error;
  s.nodes = impl_->peers;
  s.node = impl_->options.node;
  return s;
}

}  // namespace duplex::apps
