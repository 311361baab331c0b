#include "duplex/apps/chat/redis_connection.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <utility>

#include "duplex/base/log.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
constexpr std::chrono::seconds kConnectTimeout{3};

RedisConnection* owner(const redisAsyncContext* ac) {
  return static_cast<RedisConnection*>(ac->data);
}

Channel* channel_of(void* privdata) { return static_cast<Channel*>(privdata); }

// hiredis's own functions (the same for every reader), with createArray checked first.
redisReplyObjectFunctions g_base{};
redisReplyObjectFunctions g_limited{};

void* create_array(const redisReadTask* task, int elements) {
  auto* budget = static_cast<ReplyBudget*>(task->privdata);
  if (task->parent == nullptr) budget->elements = 0;  // a new reply begins
  if (elements > 0) budget->elements += static_cast<std::size_t>(elements);
  if (budget->elements > kMaxReplyElements) return nullptr;  // hiredis: "Out of memory"
  return g_base.createArray(task, elements);
}

}  // namespace

void limit_replies(redisReader* reader, ReplyBudget* budget) {
  static redisReplyObjectFunctions* const limited = [reader] {
    g_base = *reader->fn;
    g_limited = g_base;
    g_limited.createArray = create_array;
    return &g_limited;
  }();
  reader->fn = limited;
  reader->privdata = budget;
}

// A command's callback, and the connection it went out on.
struct RedisConnection::Pending {
  RedisConnection* self;
  ReplyCallback cb;
};

RedisConnection::RedisConnection(EventLoop* loop, redis::Url url, std::string role,
                                 StateCallback on_state)
    : loop_(loop), url_(std::move(url)), role_(std::move(role)), on_state_(std::move(on_state)) {}

RedisConnection::~RedisConnection() {
  dying_ = true;
  loop_->cancel(retry_timer_);
  loop_->cancel(connect_timer_);
  // Frees the context: pending callbacks run with no reply and are dropped (dying_), the
  // cleanup hook removes the channel.
  if (ac_ != nullptr) redisAsyncFree(ac_);
}

void RedisConnection::start() { connect(); }

void RedisConnection::connect() {
  retry_timer_ = {};
  ac_ = redisAsyncConnect(url_.host.c_str(), url_.port);
  if (ac_ == nullptr) return lost("out of memory");
  if (ac_->err) {
    std::string why = ac_->errstr;
    redisAsyncFree(ac_);
    ac_ = nullptr;
    return lost(why);
  }
  ac_->data = this;
  limit_replies(ac_->c.reader, &budget_);
  channel_ = std::make_unique<Channel>(loop_, ac_->c.fd);
  redisAsyncContext* ac = ac_;
  // hiredis reads a failed connect or a reset itself (getsockopt, read): every readiness,
  // an error or hang-up included, goes to it. Once hiredis has freed the context (ac_ is
  // then null), the round's other callbacks of the channel must not reach it.
  auto read = [this, ac] {
    if (ac_ == ac) redisAsyncHandleRead(ac);
  };
  channel_->on_read(read);
  channel_->on_error(read);
  channel_->on_close(read);
  channel_->on_write([this, ac] {
    if (ac_ == ac) redisAsyncHandleWrite(ac);
  });
  ac_->ev.data = channel_.get();
  ac_->ev.addRead = [](void* p) { channel_of(p)->enable_reading(); };
  ac_->ev.delRead = [](void* p) { channel_of(p)->disable_reading(); };
  ac_->ev.addWrite = [](void* p) { channel_of(p)->enable_writing(); };
  ac_->ev.delWrite = [](void* p) { channel_of(p)->disable_writing(); };
  ac_->ev.cleanup = [](void* p) {
    // The channel goes with the context (it may be in its own callback: Channel allows it).
    auto* c = channel_of(p);
    c->disable_all();
    c->remove();
  };
  redisAsyncSetDisconnectCallback(ac_, &RedisConnection::on_disconnect);
  redisAsyncSetConnectCallback(ac_, &RedisConnection::on_connect);  // waits for writable
  connect_timer_ = loop_->run_after(kConnectTimeout, [this] {
    connect_timer_ = {};
    if (ac_ == nullptr || up_) return;
    redisAsyncContext* stale = std::exchange(ac_, nullptr);
    stale->data = nullptr;  // its callbacks are ours no more
    redisAsyncFree(stale);
    lost("no answer within " + std::to_string(kConnectTimeout.count()) + " s");
  });
}

void RedisConnection::on_connect(const redisAsyncContext* ac, int status) {
  RedisConnection* self = owner(ac);
  if (self == nullptr || self->dying_) return;
  if (status != REDIS_OK) {
    // hiredis frees the context when this returns.
    std::string why = ac->errstr;
    self->ac_ = nullptr;
    self->loop_->cancel(self->connect_timer_);
    self->lost(why);
    return;
  }
  self->log_in();
}

void RedisConnection::on_disconnect(const redisAsyncContext* ac, int status) {
  RedisConnection* self = owner(ac);
  if (self == nullptr || self->dying_) return;
  // hiredis frees the context when this returns.
  self->ac_ = nullptr;
  self->loop_->cancel(self->connect_timer_);
  if (status == REDIS_OK)
    self->lost("closed");
  else if (self->budget_.elements > kMaxReplyElements)  // hiredis calls it "Out of memory"
    self->lost("a reply of more than " + std::to_string(kMaxReplyElements) +
               " elements, which the chat never asks for: is it Redis?");
  else
    self->lost(ac->errstr);
}

void RedisConnection::log_in() {
  std::vector<std::vector<std::string>> steps;
  if (!url_.password.empty()) {
    if (url_.user.empty())
      steps.push_back({"AUTH", url_.password});
    else
      steps.push_back({"AUTH", url_.user, url_.password});
  }
  if (url_.db != 0) steps.push_back({"SELECT", std::to_string(url_.db)});
  steps.push_back({"PING"});
  // Each step's answer is checked in order; the last one brings the connection up.
  auto remaining = std::make_shared<std::size_t>(steps.size());
  auto failed = std::make_shared<bool>(false);
  for (const auto& argv : steps) {
    send(argv, [this, remaining, failed, what = argv.front()](const redisReply* r,
                                                              std::string_view error) {
      if (*failed) return;
      if (r == nullptr) {
        *failed = true;
        return;  // on_disconnect says why
      }
      if (r->type == REDIS_REPLY_ERROR) {
        *failed = true;
        // The reason lost() gives when hiredis has closed the connection.
        refused_ =
            (what == "AUTH" ? "Redis refused the password: " : "Redis refused " + what + ": ") +
            std::string(r->str, r->len);
        if (ac_ != nullptr) redisAsyncDisconnect(ac_);
        return;
      }
      (void)error;
      if (--*remaining == 0) {
        up_ = true;
        backoff_ = kFirstBackoff;
        loop_->cancel(connect_timer_);
        on_state_(true, "");
      }
    });
  }
}

void RedisConnection::lost(std::string why) {
  if (!refused_.empty()) why = std::exchange(refused_, std::string());
  const bool was_up = std::exchange(up_, false);
  if (channel_) {
    channel_->disable_all();
    channel_->remove();
  }
  // The channel object itself is destroyed later, outside its own callbacks.
  loop_->queue_in_loop([c = std::shared_ptr<Channel>(std::move(channel_))] {});
  log::debug("redis", role_, " connection to ", url_.endpoint(), (was_up ? " lost: " : " failed: "),
             why);
  on_state_(false, why);
  retry_later();
}

void RedisConnection::retry_later() {
  if (dying_ || retry_timer_) return;
  retry_timer_ = loop_->run_after(backoff_, [this] { connect(); });
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

bool RedisConnection::command(const std::vector<std::string>& argv, ReplyCallback cb) {
  if (!up_) return false;
  return send(argv, std::move(cb));
}

bool RedisConnection::send(const std::vector<std::string>& argv, ReplyCallback cb) {
  if (ac_ == nullptr) return false;
  std::vector<const char*> args;
  std::vector<std::size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* p = new Pending{this, std::move(cb)};
  if (redisAsyncCommandArgv(ac_, &RedisConnection::on_reply, p, static_cast<int>(args.size()),
                            args.data(), lens.data()) != REDIS_OK) {
    delete p;
    return false;
  }
  return true;
}

void RedisConnection::on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(privdata));
  RedisConnection* self = p->self;
  if (self->dying_ || ac->data == nullptr) return;
  if (reply == nullptr) {
    // The connection is going: every later command must wait for the next one.
    self->up_ = false;
    if (p->cb)
      p->cb(nullptr,
            ac->err ? std::string_view(ac->errstr) : std::string_view("connection closed"));
    return;
  }
  if (p->cb) p->cb(static_cast<const redisReply*>(reply), "");
}

}  // namespace duplex::apps
