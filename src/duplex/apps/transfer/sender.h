// Public. The sending end of a transfer: offers a Source, resumes or skips what the
// receiver holds already, streams each file with its SHA-256, and ends ok once the
// receiver confirms. Whichever side connected, the sender speaks first.
#pragma once

#include <memory>
#include <optional>

#include "duplex/apps/transfer/session.h"
#include "duplex/apps/transfer/sha256.h"
#include "duplex/apps/transfer/source.h"
#include "duplex/reactor/timer_queue.h"

namespace duplex::transfer {

struct SendOptions {
  std::uint64_t rate = 0;  // file bytes a second at most (--limit-rate); 0: no limit
};

class Sender final : public Session {
 public:
  Sender(std::shared_ptr<const Source> source, SendOptions options, Events events);
  ~Sender() override;

  void start(const TcpConnectionPtr& c) override;
  void on_message(const TcpConnectionPtr& c, Buffer& in) override;
  void on_write_complete(const TcpConnectionPtr& c) override;

 private:
  struct Current;
  // What one step of the pump did: sent bytes (their write-complete brings the next step),
  // nothing (go on at once), or waits (for the rate limit's timer, or it failed).
  enum class Step { kSent, kNothing, kWait };
  void handle(const TcpConnectionPtr& c, Frame& f);
  void pump(const TcpConnectionPtr& c);
  Step step(const TcpConnectionPtr& c);
  Step open_next(const TcpConnectionPtr& c);
  Step check_prefix(const TcpConnectionPtr& c);
  Step send_chunk(const TcpConnectionPtr& c);
  std::string closed_early() const override;

  std::shared_ptr<const Source> source_;
  SendOptions options_;
  enum class Phase { kOffered, kSending, kEnded } phase_ = Phase::kOffered;
  std::optional<Reply> reply_;
  std::size_t next_ = 0;  // the entry to look at next
  std::unique_ptr<Current> current_;
  Buffer chunk_;
  std::uint64_t paced_ = 0;  // file bytes sent since the rate limit's clock started
  std::chrono::steady_clock::time_point pace_start_;
  std::optional<TimerId> pace_timer_;
  EventLoop* loop_ = nullptr;
};

}  // namespace duplex::transfer
