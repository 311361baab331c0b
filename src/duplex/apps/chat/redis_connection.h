// Internal to the chat. One connection to a Redis server on an EventLoop: hiredis's
// asynchronous API, its socket watched by a Channel of the loop (hiredis's addRead,
// delRead, addWrite, delWrite and cleanup hooks), so no thread of its own.
//
// It logs in (AUTH, SELECT) before it calls itself up, and when the connection is lost or
// cannot be made it says why and tries again after a backoff (100 ms, doubling to 2 s) until
// it is destroyed. A command's callback runs exactly once: with the reply (an error reply
// included), or with no reply and the reason when the connection went first.
// Loop thread only, every method.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/proto/redis_url.h"
#include "duplex/reactor/timer_queue.h"

struct redisAsyncContext;
struct redisReader;
struct redisReply;

namespace duplex {
class Channel;
class EventLoop;
}  // namespace duplex

namespace duplex::apps {

// The most array elements one reply from Redis may hold, its nested arrays counted together.
// The chat's largest replies are far below it (XREAD at most 500 entries of each room,
// XREVRANGE 1000); hiredis 0.14 itself has no bound, so a server answering "*2000000000"
// would have a node allocate 16 GB before a single element arrived.
inline constexpr std::size_t kMaxReplyElements = 1'000'000;

// What the replies of one reader have used so far; lives as long as the reader.
struct ReplyBudget {
  std::size_t elements = 0;
};

// Makes `reader` refuse (as hiredis's out-of-memory error, which fails the connection) a
// reply with more than kMaxReplyElements array elements in all, counted in `budget`.
void limit_replies(redisReader* reader, ReplyBudget* budget);

class RedisConnection {
 public:
  // reply: null when the connection went before the answer (error then says why).
  using ReplyCallback = std::function<void(const redisReply* reply, std::string_view error)>;
  // up: logged in and ready; !up: lost or not made, and why.
  using StateCallback = std::function<void(bool up, std::string_view why)>;

  // `role` names the connection in the log ("commands", "reader").
  RedisConnection(EventLoop* loop, redis::Url url, std::string role, StateCallback on_state);
  // Outstanding callbacks are dropped, not called.
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  void start();
  bool up() const noexcept { return up_; }
  // Sends a command; false, and no callback, when the connection is not up.
  bool command(const std::vector<std::string>& argv, ReplyCallback cb);

 private:
  struct Pending;
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  void connect();
  void log_in();
  void lost(std::string why);
  void retry_later();
  bool send(const std::vector<std::string>& argv, ReplyCallback cb);

  EventLoop* loop_;
  const redis::Url url_;
  const std::string role_;
  StateCallback on_state_;
  redisAsyncContext* ac_ = nullptr;
  ReplyBudget budget_;
  std::unique_ptr<Channel> channel_;
  std::string refused_;  // why the server refused the log-in, until lost() says it
  bool up_ = false;
  bool dying_ = false;
  std::chrono::milliseconds backoff_{100};
  TimerId retry_timer_{};
  TimerId connect_timer_{};
};

}  // namespace duplex::apps
