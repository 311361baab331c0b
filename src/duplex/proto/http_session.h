// Internal to proto/. One HTTP/1.1 connection's state: the request being parsed, the
// responses being written, the file being sent, and the one deadline that applies now.
//
// Closing (after a refusal, a 408 or a last response), as nginx's lingering close: our
// answer drains under the send timeout, FIN follows, and the peer then has
// ServerOptions::linger_timeout to close its side while we read and drop what it still
// sends (up to a bound); a peer still there after that, or that stops reading our answer,
// is reset. Every connection thus ends within its deadlines, whatever the peer does.
//
// A deferred answer (Response::defer) holds the connection's later requests (pipelined
// bytes wait in the input, reading stops past a bound) until it is completed, or until
// ServerOptions::answer_timeout answers 503 and closes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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
  enum class Phase { kIdle, kHead, kBody, kDeferred, kFile, kClosing, kUpgraded };
  enum class Deadline { kNone, kIdle, kHead, kBody, kDeferred, kSend, kClosing };

  // What answering needs of a request, once its views into the input may be gone.
  struct Asked {
    std::string_view method;
    std::string_view path;
    bool keep_alive = true;
    int version_minor = 1;
  };

  void process();
  // Parses and answers complete requests into out_; stops at an incomplete one, at a file
  // body, at an upgrade, or when the peer has too much unread output.
  void parse_requests(const TcpConnectionPtr& c);
  bool read_body(const TcpConnectionPtr& c, std::size_t* total);
  void respond(const TcpConnectionPtr& c);
  // Serialises the answer to `asked` into out_ and sets the phase that follows.
  void answer(const TcpConnectionPtr& c, const Asked& asked, Response& res,
              const std::string& thrown);
  DeferredResponse defer();
  void complete_deferred(std::uint64_t id, Response res, std::string thrown = {});
  void refuse(int status, std::string_view reason);
  // The last answer is in out_ or sent: FIN once it drains, then linger.
  void close_after_output(const TcpConnectionPtr& c);
  void linger(const TcpConnectionPtr& c);
  bool pump_file(const TcpConnectionPtr& c);
  bool pump_file_copy(const TcpConnectionPtr& c);  // under a filter (TLS)
  bool file_done(const TcpConnectionPtr& c);
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

  // The request whose answer was deferred, and the fields set before defer().
  std::uint64_t deferred_id_ = 0;
  Response deferred_;
  std::string deferred_method_;
  std::string deferred_path_;
  Asked deferred_asked_;
  Clock::time_point deferred_deadline_{};

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
