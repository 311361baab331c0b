// Public. An HTTP/1.1 response as a handler builds it, and its serialisation.
//
// The server adds Date (formatted once per second per loop), Server, and the framing
// (Content-Length, or Transfer-Encoding: chunked) itself; a handler sets the status, its own
// fields and one of: a body string, a region of an open file (sent with sendfile), or a
// chunked body built from chunks.
// A handler whose answer depends on work done elsewhere (a commit on another thread) calls
// defer() and returns; the loop goes on, and the answer leaves once complete() is called.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/reactor/buffer.h"
#include "duplex/transport/callbacks.h"

namespace duplex {
class EventLoop;
}

namespace duplex::http {

struct Response;

// An open file, closed when the last response that sends it is gone.
class FileHandle {
 public:
  explicit FileHandle(int fd) noexcept : fd_(fd) {}
  ~FileHandle();
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

// Takes over a connection after a 101 (Switching Protocols) response has been written:
// every later byte goes to it, starting with what already followed the request in `input`.
using UpgradeHandler = std::function<void(const TcpConnectionPtr&, Buffer& input)>;

// The answer to one request, given later: Response::defer() returns it. Copies share the
// answer, and only the first complete() counts. complete() may be called from any thread;
// the answer is handed to the connection's loop and leaves after the callbacks it is
// running (never from inside complete()). It holds the connection weakly: once the peer has
// gone, complete() does nothing. When every copy is destroyed unanswered, the request is
// answered 500, so that no client waits for ever. Copies must not outlive the loop.
class DeferredResponse {
 public:
  using Sender = std::function<void(Response)>;

  DeferredResponse() = default;
  // For whoever calls handlers (http::Server, a test): `send` gets the answer in `loop`'s
  // thread.
  DeferredResponse(EventLoop* loop, Sender send);

  void complete(Response response) const;
  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  struct State;
  std::shared_ptr<State> state_;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;  // send body (and chunks) with Transfer-Encoding: chunked
  std::vector<std::string> chunks;
  std::shared_ptr<FileHandle> file;  // instead of body: file bytes [file_offset, +file_length)
  std::uint64_t file_offset = 0;
  std::uint64_t file_length = 0;
  bool close = false;      // close the connection after this response
  UpgradeHandler upgrade;  // with status 101
  // Set by whoever calls the handler (http::Server does): what defer() asks.
  std::function<DeferredResponse()> deferrer;
  bool deferred = false;  // defer() was called: the answer comes through complete()

  Response& set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  // A complete response with this status, content type and body.
  Response& text(int code, std::string content,
                 std::string_view type = "text/plain; charset=utf-8");
  // A JSON body; `json_text` is already serialised (see http_json.h for nlohmann helpers).
  Response& json(int code, std::string json_text);
  // Answers later: the answer is what the returned handle's complete() is given, with
  // the fields set on this response (by the handler or a wrapper around it) before it.
  // The connection reads no further request meanwhile. Throws std::logic_error when the
  // caller of the handler cannot answer later (no deferrer).
  [[nodiscard]] DeferredResponse defer();
  // The length of the content, for Content-Length.
  std::uint64_t content_length() const noexcept;
};

// Appends the response head and (unless `head_only` or file-backed) the body to `out`.
// `date` is the preformatted IMF-fixdate, `server` the Server field value.
void serialize(const Response& r, bool head_only, bool keep_alive, std::string_view date,
               std::string_view server, std::string& out);

// The IMF-fixdate of `t` (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::int64_t unix_seconds);
// Parses an IMF-fixdate; -1 if it is not one.
std::int64_t parse_http_date(std::string_view text) noexcept;

}  // namespace duplex::http
