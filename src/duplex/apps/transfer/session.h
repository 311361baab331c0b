// Public. One transfer over one connection, from either end (Sender, Receiver), and the
// wiring that gives a TcpServer's or a TcpClient's connections one session each.
//
// Loop thread only. A session reports each file as it is done and its end exactly once:
// ok only when the receiver has confirmed that every file is verified and in place.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "duplex/apps/transfer/transfer_protocol.h"
#include "duplex/reactor/buffer.h"
#include "duplex/transport/callbacks.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::transfer {

struct FileReport {
  std::string path;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // resumed from this byte (0: from the start)
  bool skipped = false;      // the receiver had it already, the same bytes
  double seconds = 0;
};

struct Outcome {
  bool ok = false;
  std::string error;        // why not: one line
  std::uint64_t files = 0;  // files done (sent or received, skipped included)
  std::uint64_t skipped = 0;
  std::uint64_t bytes = 0;  // file bytes that crossed the connection in this session
  double seconds = 0;
};

struct Events {
  std::function<void(const FileReport&)> file;
  std::function<void(const Outcome&)> end;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  static constexpr Clock::duration kLinger = std::chrono::seconds(2);
  virtual ~Session() = default;
  // The connection is up.
  virtual void start(const TcpConnectionPtr& c) = 0;
  virtual void on_message(const TcpConnectionPtr& c, Buffer& in) = 0;
  virtual void on_write_complete(const TcpConnectionPtr&) {}
  // The connection is down; an unfinished session ends with the reason.
  void on_closed(const TcpConnectionPtr& c);

  // For progress: bytes of the offer done (resumed and skipped bytes count) and in all.
  std::uint64_t bytes_done() const noexcept { return done_; }
  std::uint64_t bytes_total() const noexcept { return total_; }
  bool finished() const noexcept { return finished_; }

 protected:
  explicit Session(Events events) : events_(std::move(events)) {}
  // Ends the session: tells the peer why (an Error frame, then FIN) when `tell` and the
  // connection is up, and reports the end. A peer that does not close in return (one that
  // does not speak this protocol) is cut off kLinger later.
  void fail(const TcpConnectionPtr& c, const std::string& why, bool tell = true);
  void succeed(const TcpConnectionPtr& c);
  void report(const FileReport& f);
  // The next whole frame of `in`; nullopt while it is not all there, or when the bytes are
  // not a frame (the session has failed then, and the peer was told why).
  std::optional<Frame> next_frame(const TcpConnectionPtr& c, Buffer& in);
  virtual std::string closed_early() const = 0;  // why an unfinished session ends at a close

  Events events_;
  Outcome outcome_;
  std::uint64_t done_ = 0;
  std::uint64_t total_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

 private:
  void end();
  bool finished_ = false;
};

using SessionPtr = std::shared_ptr<Session>;

// Gives every connection of `endpoint` (a TcpServer or a TcpClient) a session of its own,
// made by `make` when it comes up (nullptr refuses the connection: it is closed at once);
// `on_down` (may be empty) sees each session once its connection is closed: then whatever
// it had to say has left.
template <typename Endpoint>
void run_sessions(Endpoint& endpoint, std::function<SessionPtr(const TcpConnectionPtr&)> make,
                  std::function<void(const SessionPtr&)> on_down = {}) {
  auto sessions = std::make_shared<std::unordered_map<const TcpConnection*, SessionPtr>>();
  endpoint.set_connection_callback([sessions, make, on_down](const TcpConnectionPtr& c) {
    if (c->connected()) {
      auto s = make(c);
      if (!s) return c->force_close();
      (*sessions)[c.get()] = s;
      s->start(c);
      return;
    }
    const auto it = sessions->find(c.get());
    if (it == sessions->end()) return;
    const SessionPtr s = it->second;
    sessions->erase(it);
    s->on_closed(c);
    if (on_down) on_down(s);
  });
  endpoint.set_message_callback(
      [sessions](const TcpConnectionPtr& c, Buffer& in, Clock::time_point) {
        const auto it = sessions->find(c.get());
        if (it != sessions->end()) it->second->on_message(c, in);
      });
  endpoint.set_write_complete_callback([sessions](const TcpConnectionPtr& c) {
    const auto it = sessions->find(c.get());
    if (it != sessions->end()) it->second->on_write_complete(c);
  });
}

}  // namespace duplex::transfer
