#include "duplex/proto/http_session.h"

#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <iterator>
#include <utility>

#include "duplex/base/log.h"
#include "duplex/reactor/buffer.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::http {
namespace {

// Answers of pipelined requests the peer has not read yet, beyond which we stop parsing its
// requests (and reading its socket) until it catches up: a client that pipelines without
// reading cannot grow our memory.
constexpr std::size_t kMaxUnreadOutput = 1 << 20;
// What a closing connection reads and drops before it is reset: enough for the rest of an
// upload that was refused, not a way to keep us reading for ever.
constexpr std::size_t kLingerBytes = 8 << 20;

// The Date field, formatted once per second per loop thread.
std::string_view current_date() {
  thread_local std::int64_t second = -1;
  thread_local std::string text;
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  if (now != second) {
    second = now;
    text = http_date(now);
  }
  return text;
}

// A 5xx is the server's fault: the operator gets one error line naming the request and
// the cause (`why`: the exception a handler threw, say; else the start of the body it
// answered with).
void log_server_error(const TcpConnection& c, std::string_view method, std::string_view path,
                      const Response& res, std::string_view why) {
  if (!log::enabled(log::Level::error)) return;
  if (why.empty()) {
    why = std::string_view(res.body).substr(0, 200);
    why = why.substr(0, why.find('\n'));
  }
  log::error("http", c.peer().to_string(), " ", method, " ", path, ": ", res.status, " ", why);
}

}  // namespace

Session::Session(const TcpConnectionPtr& conn, std::shared_ptr<const ServerOptions> options,
                 std::shared_ptr<const Handler> handler)
    : conn_(conn),
      loop_(conn->loop()),
      options_(std::move(options)),
      handler_(std::move(handler)),
      parser_(options_->limits),
      chunked_(options_->limits) {}

void Session::start() {
  set_deadline(Clock::now() + options_->keep_alive_timeout, Deadline::kIdle);
}

void Session::on_message(Buffer& input) {
  input_ = &input;
  if (phase_ == Phase::kUpgraded) {
    if (auto c = conn_.lock()) upgrade_(c, input);
    return;
  }
  if (phase_ == Phase::kClosing) {
    // Nothing after a refusal can be framed: drop it. Reading on lets the peer's own
    // sends complete, so that it gets to read our answer (a close with unread input would
    // send RST at once).
    lingered_bytes_ += input.readable_bytes();
    input.retrieve_all();
    if (lingered_bytes_ > kLingerBytes) {
      if (auto c = conn_.lock()) c->reset();
    }
    return;
  }
  process();
}

void Session::on_write_complete() {
  auto c = conn_.lock();
  if (!c) return;
  if (phase_ == Phase::kFile) {
    if (!pump_file(c)) return;
    process();
    return;
  }
  if (phase_ == Phase::kClosing) {
    if (deadline_kind_ == Deadline::kSend) linger(c);  // the last answer has left
    return;
  }
  if (phase_ == Phase::kUpgraded) return;
  if (!c->reading()) c->resume_reading();
  restore_read_deadline();
  if (input_ && !input_->empty()) process();
}

void Session::process() {
  auto c = conn_.lock();
  if (!c || input_ == nullptr) return;
  for (;;) {
    parse_requests(c);
    flush(c);
    if (phase_ == Phase::kFile && pump_file(c)) continue;
    break;
  }
  if (phase_ == Phase::kDeferred && input_->readable_bytes() > kMaxUnreadOutput && c->reading())
    c->pause_reading();  // requests pipelined behind a deferred answer wait, up to a bound
  if (phase_ == Phase::kClosing) {
    close_after_output(c);
  } else if (phase_ == Phase::kUpgraded) {
    deadline_kind_ = Deadline::kNone;  // the new protocol keeps its own time
    upgrade_(c, *input_);
  } else if (phase_ != Phase::kFile) {
    if (c->output_bytes() > 0) {
      send_progress_ = c->bytes_sent();
      set_deadline(Clock::now() + options_->send_timeout, Deadline::kSend);
    } else {
      restore_read_deadline();
      if (phase_ == Phase::kIdle && input_->empty()) {
        // Between requests a keep-alive connection holds no buffer of its own: an idle
        // connection then costs only its objects (see docs/benchmarks.md, idle memory).
        input_->release_if_empty(0);
        std::string().swap(out_);
      }
    }
  }
}

void Session::parse_requests(const TcpConnectionPtr& c) {
  Buffer& in = *input_;
  while (!in.empty()) {
    if (phase_ == Phase::kIdle) {
      phase_ = Phase::kHead;
      head_deadline_ = Clock::now() + options_->header_timeout;
    }
    if (phase_ == Phase::kHead) {
      const auto r = parser_.parse_head(in.view(), request_);
      if (r == RequestParser::Result::kIncomplete) return;
      if (r == RequestParser::Result::kError) {
        refuse(parser_.failure().status, parser_.failure().reason);
        return;
      }
      head_base_ = in.peek();
      phase_ = Phase::kBody;
      body_deadline_ = Clock::now() + options_->body_timeout;
    }
    if (phase_ != Phase::kBody) return;
    std::size_t total = 0;
    if (!read_body(c, &total)) return;
    if (in.peek() != head_base_) {
      // The buffer moved while the body arrived: the head's views must be taken again.
      parser_.reset();
      parser_.parse_head(in.view(), request_);
    }
    if (request_.framing == BodyFraming::kContentLength) {
      request_.body = in.view().substr(parser_.head_length(),
                                       static_cast<std::size_t>(request_.content_length));
    } else if (request_.framing == BodyFraming::kChunked) {
      request_.body = chunked_body_;
    }
    respond(c);
    in.retrieve(total);
    if (phase_ != Phase::kIdle) return;
    next_request();
    if (c->output_bytes() + out_.size() > kMaxUnreadOutput) {
      c->pause_reading();  // resumed by on_write_complete
      return;
    }
  }
}

// Whether the whole body is in the input; *total is then the request's length.
bool Session::read_body(const TcpConnectionPtr& c, std::size_t* total) {
  Buffer& in = *input_;
  const std::size_t head = parser_.head_length();
  (void)c;
  const bool wants_continue = request_.expect_continue && request_.version_minor == 1;
  if (request_.framing == BodyFraming::kNone) {
    *total = head;
    return true;
  }
  if (request_.framing == BodyFraming::kContentLength) {
    const std::size_t need = head + static_cast<std::size_t>(request_.content_length);
    if (in.readable_bytes() >= need) {
      *total = need;
      return true;
    }
  } else {
    std::size_t used = 0;
    const auto r = chunked_.decode(in.view().substr(head + body_scanned_), &used, chunked_body_,
                                   request_.trailers);
    body_scanned_ += used;
    if (r == ChunkedDecoder::Result::kError) {
      refuse(chunked_.failure().status, chunked_.failure().reason);
      return false;
    }
    if (r == ChunkedDecoder::Result::kComplete) {
      *total = head + body_scanned_;
      return true;
    }
  }
  if (wants_continue && !continue_sent_) {
    out_.append("HTTP/1.1 100 Continue\r\n\r\n");
    continue_sent_ = true;
  }
  return false;
}

void Session::respond(const TcpConnectionPtr& c) {
  Response res;
  // One pointer: std::function keeps it without allocating.
  res.deferrer = [this] { return defer(); };
  std::string thrown;
  try {
    (*handler_)(request_, res);
  } catch (const std::exception& e) {
    res = Response{};
    res.text(500, "internal error\n");
    thrown = std::string("the handler threw: ") + e.what();
  }
  const Asked asked{request_.method, request_.path, request_.keep_alive, request_.version_minor};
  if (res.deferred) {
    // The request's views go with the input: keep what the answer needs.
    deferred_method_.assign(asked.method);
    deferred_path_.assign(asked.path);
    deferred_asked_ = asked;
    deferred_asked_.method = deferred_method_;
    deferred_asked_.path = deferred_path_;
    res.deferrer = nullptr;
    deferred_ = std::move(res);
    phase_ = Phase::kDeferred;
    deferred_deadline_ = Clock::now() + options_->answer_timeout;
    set_deadline(deferred_deadline_, Deadline::kDeferred);
    return;
  }
  answer(c, asked, res, thrown);
}

DeferredResponse Session::defer() {
  return DeferredResponse(loop_, [weak = weak_from_this(), id = ++deferred_id_](Response res) {
    if (auto s = weak.lock()) s->complete_deferred(id, std::move(res));
  });
}

void Session::complete_deferred(std::uint64_t id, Response res, std::string thrown) {
  auto c = conn_.lock();
  if (!c || phase_ != Phase::kDeferred || id != deferred_id_) return;  // answered, or gone
  if (res.upgrade || res.deferred) {
    thrown = "a deferred answer cannot upgrade the connection or defer again";
    res = Response{};
    res.text(500, "internal error\n");
  }
  // The fields set before defer() (a wrapper's security headers, say) come first.
  res.headers.insert(res.headers.begin(), std::make_move_iterator(deferred_.headers.begin()),
                     std::make_move_iterator(deferred_.headers.end()));
  res.close = res.close || deferred_.close;
  deferred_ = Response{};
  answer(c, deferred_asked_, res, thrown);
  if (phase_ == Phase::kIdle) next_request();
  if (!c->reading() && c->output_bytes() == 0) c->resume_reading();
  process();  // sends it, then the requests that waited behind it
}

void Session::answer(const TcpConnectionPtr& c, const Asked& asked, Response& res,
                     const std::string& thrown) {
  if (res.status >= 500) log_server_error(*c, asked.method, asked.path, res, thrown);
  const bool head = asked.method == "HEAD";
  const bool keep = asked.keep_alive && !res.close;
  if (asked.version_minor == 0) {
    // An HTTP/1.0 client knows no chunked coding, and keeps the connection only when told.
    if (res.chunked) {
      for (const auto& chunk : res.chunks) res.body += chunk;
      res.chunks.clear();
      res.chunked = false;
    }
    if (keep) res.set("Connection", "keep-alive");
  }
  if (res.status == 101 && res.upgrade) {
    serialize(res, true, true, current_date(), options_->server_name, out_);
    upgrade_ = std::move(res.upgrade);
    phase_ = Phase::kUpgraded;
    return;
  }
  serialize(res, head, keep, current_date(), options_->server_name, out_);
  if (res.file && !head && res.status != 304 && res.file_length > 0) {
    file_ = std::move(res.file);
    file_offset_ = res.file_offset;
    file_left_ = res.file_length;
    close_after_file_ = !keep;
    phase_ = Phase::kFile;
  } else {
    phase_ = keep ? Phase::kIdle : Phase::kClosing;
  }
}

void Session::next_request() {
  parser_.reset();
  chunked_.reset();
  request_ = Request{};
  chunked_body_.clear();
  body_scanned_ = 0;
  continue_sent_ = false;
  head_base_ = nullptr;
}

void Session::refuse(int status, std::string_view reason) {
  Response res;
  res.text(status, std::string(reason) + "\n");
  serialize(res, false, false, current_date(), options_->server_name, out_);
  phase_ = Phase::kClosing;
}

void Session::close_after_output(const TcpConnectionPtr& c) {
  c->shutdown_write();
  if (c->output_bytes() > 0) {
    send_progress_ = c->bytes_sent() + file_offset_;
    set_deadline(Clock::now() + options_->send_timeout, Deadline::kSend);
  } else {
    linger(c);
  }
}

// Our answer and FIN are with the kernel: the peer has the linger timeout to close. If it
// has not taken all our bytes by then (a slow reader), each send timeout that passes with
// progress gives it another, and once it has them all, one more linger timeout. on_timer
// resets it otherwise.
void Session::linger(const TcpConnectionPtr& c) {
  if (!c->reading()) c->resume_reading();
  linger_unacked_ = 0;
  set_deadline(Clock::now() + options_->linger_timeout, Deadline::kClosing);
}

void Session::flush(const TcpConnectionPtr& c) {
  if (out_.empty()) return;
  if (phase_ == Phase::kFile && c->filtered()) return;  // pump_file sends it with the body
  if (phase_ == Phase::kFile) {
    // A file body follows at once with sendfile: the head waits for it (MSG_MORE), so head
    // and body leave in the same segments instead of a small head segment of its own.
    c->send_more(out_);
  } else {
    c->send(out_);
  }
  out_.clear();
}

// Sends the file body; true when it is all sent. sendfile writes straight to the socket
// while our output buffer is empty; when the socket is full, one chunk goes through the
// connection's buffer instead, so that its write-complete callback tells us when to go on
// (TcpConnection has no "writable again" callback of its own).
bool Session::pump_file(const TcpConnectionPtr& c) {
  if (c->filtered()) return pump_file_copy(c);
  while (file_left_ > 0) {
    if (c->output_bytes() > 0) {
      send_progress_ = c->bytes_sent() + file_offset_;
      set_deadline(Clock::now() + options_->send_timeout, Deadline::kSend);
      return false;
    }
    auto offset = static_cast<off_t>(file_offset_);
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(file_left_, 1 << 20));
    const ssize_t n = ::sendfile(c->fd(), file_->fd(), &offset, want);
    if (n > 0) {
      file_offset_ += static_cast<std::uint64_t>(n);
      file_left_ -= static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      std::string chunk(std::min<std::size_t>(want, 4096), '\0');
      const ssize_t r =
          ::pread(file_->fd(), chunk.data(), chunk.size(), static_cast<off_t>(file_offset_));
      if (r <= 0) break;
      c->send(std::string_view(chunk.data(), static_cast<std::size_t>(r)));
      file_offset_ += static_cast<std::uint64_t>(r);
      file_left_ -= static_cast<std::uint64_t>(r);
      continue;  // output_bytes() > 0 now, unless the kernel took it all
    }
    break;  // the file shrank under us or the socket failed: the framing is lost
  }
  return file_done(c);
}

// Under a filter (TLS) the socket takes records, not the file: each chunk is read behind
// the response head into the loop thread's chunk buffer (the one copy; a std::string would
// zero-fill each chunk before pread overwrote it) and sent through the filter, which
// encrypts it before send() returns, so the buffer is free again for any session of this
// thread. The write-complete callback brings us back whenever the connection holds output.
bool Session::pump_file_copy(const TcpConnectionPtr& c) {
  constexpr std::size_t kChunk = 256 * 1024;
  thread_local Buffer chunk;
  while (file_left_ > 0) {
    if (c->output_bytes() > 0) {
      send_progress_ = c->bytes_sent() + file_offset_;
      set_deadline(Clock::now() + options_->send_timeout, Deadline::kSend);
      return false;
    }
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(file_left_, kChunk));
    chunk.retrieve_all();
    chunk.append(out_.data(), out_.size());
    chunk.ensure_writable(want);
    const ssize_t r =
        ::pread(file_->fd(), chunk.begin_write(), want, static_cast<off_t>(file_offset_));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;  // the file shrank under us: the framing is lost
    chunk.has_written(static_cast<std::size_t>(r));
    file_offset_ += static_cast<std::uint64_t>(r);
    file_left_ -= static_cast<std::uint64_t>(r);
    out_.clear();
    c->send(chunk);
  }
  return file_done(c);
}

bool Session::file_done(const TcpConnectionPtr& c) {
  if (!out_.empty()) {  // a head whose body could not be read
    c->send(out_);
    out_.clear();
  }
  if (file_left_ > 0) {
    c->force_close();
    phase_ = Phase::kClosing;
    return false;
  }
  file_.reset();
  phase_ = close_after_file_ ? Phase::kClosing : Phase::kIdle;
  if (phase_ == Phase::kIdle) next_request();
  return true;
}

void Session::restore_read_deadline() {
  switch (phase_) {
    case Phase::kIdle:
      set_deadline(Clock::now() + options_->keep_alive_timeout, Deadline::kIdle);
      break;
    case Phase::kHead:
      set_deadline(head_deadline_, Deadline::kHead);
      break;
    case Phase::kBody:
      set_deadline(body_deadline_, Deadline::kBody);
      break;
    case Phase::kDeferred:
      set_deadline(deferred_deadline_, Deadline::kDeferred);
      break;
    default:
      break;
  }
}

void Session::set_deadline(Clock::time_point when, Deadline kind) {
  deadline_ = when;
  deadline_kind_ = kind;
  // Most moves are later (another request, more time): the armed timer then re-arms itself
  // when it fires, so no timer is added or cancelled per request. An earlier deadline needs
  // a new timer.
  if (timer_armed_ && timer_at_ <= when) return;
  if (timer_armed_) loop_->cancel(timer_);
  timer_armed_ = true;
  timer_at_ = when;
  timer_ = loop_->run_at(when, [weak = weak_from_this()] {
    if (auto s = weak.lock()) s->on_timer();
  });
}

void Session::on_timer() {
  timer_armed_ = false;
  auto c = conn_.lock();
  // A closing connection (our FIN asked for, or the peer's received) keeps its deadlines:
  // a peer that neither reads nor closes must not keep it.
  if (!c || c->state() == TcpConnection::State::kDisconnected || deadline_kind_ == Deadline::kNone)
    return;
  const auto now = Clock::now();
  if (now < deadline_) {
    set_deadline(deadline_, deadline_kind_);
    return;
  }
  switch (deadline_kind_) {
    case Deadline::kHead:
    case Deadline::kBody: {
      std::string out;
      Response res;
      res.text(408, "request not received in time\n");
      serialize(res, false, false, current_date(), options_->server_name, out);
      c->send(out);
      phase_ = Phase::kClosing;
      close_after_output(c);
      return;
    }
    case Deadline::kDeferred: {
      Response res;
      res.text(503, "no answer in time; try again later\n");
      res.close = true;
      complete_deferred(deferred_id_, std::move(res),
                        "the deferred answer did not come within the answer timeout");
      return;
    }
    case Deadline::kSend: {
      const std::uint64_t progress = c->bytes_sent() + file_offset_;
      if (progress != send_progress_) {  // the peer reads, slowly: give it another period
        send_progress_ = progress;
        set_deadline(now + options_->send_timeout, Deadline::kSend);
        return;
      }
      c->reset();  // a peer that reads nothing: no orphaned socket keeps its bytes
      return;
    }
    case Deadline::kClosing: {
      const std::size_t unacked = c->unacknowledged_bytes();
      if (unacked > 0 && unacked != linger_unacked_) {  // still reading our answer
        linger_unacked_ = unacked;
        set_deadline(now + options_->send_timeout, Deadline::kClosing);
      } else if (unacked == 0 && linger_unacked_ > 0) {  // it has it all only now
        linger_unacked_ = 0;
        set_deadline(now + options_->linger_timeout, Deadline::kClosing);
      } else {
        c->reset();  // it stopped reading, or has had our answer and not closed
      }
      return;
    }
    case Deadline::kIdle:
      c->force_close();
      return;
    case Deadline::kNone:
      return;
  }
}

}  // namespace duplex::http
