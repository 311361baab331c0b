// Internal to proto/. One HTTP/1.1 connection's state: the request being parsed, the
// responses being written, the file being sent, and the one deadline that applies now.
//
// Closing (after a refusal, a 408 or a last response), as nginx's lingering close: our
// answer drains under the send timeout, FIN follows, and the peer then has
// ServerOptions::linger_timeout to close its side while we read and drop what it still
// sends (up to a bound); a peer still there after that, or that stops reading our answer,
// is reset. Every connection thus ends within its deadlines, whatever the peer does.
#pragma once

#include <memory>
#include <string>

#include "duplex/proto/http_parser.h"
#include "duplex/proto/http_response.h"
#include "duplex/proto/http_server.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::http {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(const TcpConnectionPtr& conn, std::shared_ptr<const ServerOptions> options,
          std::shared_ptr<const Handler> handler);
  void start();
  void on_message(Buffer& input);
  void on_write_complete();

 private:
  enum class Phase { kIdle, kHead, kBody, kFile, kClosing, kUpgraded };
  enum class Deadline { kNone, kIdle, kHead, kBody, kSend, kClosing };

  void process();
  // Parses and answers complete requests into out_; stops at an incomplete one, at a file
  // body, at an upgrade, or when the peer has too much unread output.
  void parse_requests(const TcpConnectionPtr& c);
  bool read_body(const TcpConnectionPtr& c, std::size_t* total);
  void respond(const TcpConnectionPtr& c);
  void refuse(int status, std::string_view reason);
  // The last answer is in out_ or sent: FIN once it drains, then linger.
  void close_after_output(const TcpConnectionPtr& c);
  void linger(const TcpConnectionPtr& c);
  bool pump_file(const TcpConnectionPtr& c);
  void flush(const TcpConnectionPtr& c);
  void restore_read_deadline();
  void set_deadline(Clock::time_point when, Deadline kind);
  void on_timer();
  void next_request();

  std::weak_ptr<TcpConnection> conn_;
  EventLoop* loop_;
  std::shared_ptr<const ServerOptions> options_;
  std::shared_ptr<const Handler> handler_;
  Buffer* input_ = nullptr;  // the connection's input buffer, known from the first message

  Phase phase_ = Phase::kIdle;
  RequestParser parser_;
  ChunkedDecoder chunked_;
  Request request_;
  const char* head_base_ = nullptr;  // where the input started when the head was parsed
  std::string chunked_body_;
  std::size_t body_scanned_ = 0;  // bytes after the head given to the chunked decoder
  bool continue_sent_ = false;
  Clock::time_point head_deadline_{};
  Clock::time_point body_deadline_{};
  std::string out_;

  std::shared_ptr<FileHandle> file_;
  std::uint64_t file_offset_ = 0;
  std::uint64_t file_left_ = 0;
  bool close_after_file_ = false;
  UpgradeHandler upgrade_;

  Deadline deadline_kind_ = Deadline::kNone;
  Clock::time_point deadline_{};
  bool timer_armed_ = false;
  Clock::time_point timer_at_{};
  TimerId timer_{};
  std::uint64_t send_progress_ = 0;
  std::size_t lingered_bytes_ = 0;  // read and dropped while closing
  std::size_t linger_unacked_ = 0;  // the kernel's unacknowledged bytes at the last check
};

}  // namespace duplex::http
