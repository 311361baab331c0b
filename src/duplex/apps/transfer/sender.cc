#include "duplex/apps/transfer/sender.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::transfer {
namespace {

constexpr std::size_t kChunk = 256 * 1024;

}  // namespace

// The file being sent: its descriptor, where the next read starts, what is left, and the
// hash of everything before that point.
struct Sender::Current {
  std::size_t index = 0;
  int fd = -1;
  std::uint64_t at = 0;
  std::uint64_t left = 0;
  std::uint64_t offset = 0;
  Sha256 sha;
  std::chrono::steady_clock::time_point began = std::chrono::steady_clock::now();
  ~Current() {
    if (fd >= 0) ::close(fd);
  }
};

Sender::Sender(std::shared_ptr<const Source> source, SendOptions options, Events events)
    : Session(std::move(events)), source_(std::move(source)), options_(options) {
  total_ = source_->offer.total_bytes();
}

Sender::~Sender() {
  if (pace_timer_ && loop_ != nullptr) loop_->cancel(*pace_timer_);
}

void Sender::start(const TcpConnectionPtr& c) {
  loop_ = c->loop();
  c->send(encode_frame(FrameType::kOffer, encode_offer(source_->offer)));
}

void Sender::on_message(const TcpConnectionPtr& c, Buffer& in) {
  while (!finished()) {
    std::optional<Frame> f = next_frame(c, in);
    if (!f) return;
    handle(c, *f);
  }
  in.retrieve_all();  // after the end, nothing more is read
}

void Sender::handle(const TcpConnectionPtr& c, Frame& f) {
  if (f.type == FrameType::kError) return fail(c, "the receiver refused: " + f.payload, false);
  if (phase_ == Phase::kOffered && f.type == FrameType::kReply) {
    try {
      reply_ = decode_reply(f.payload, source_->offer.entries.size());
    } catch (const ParseError& e) {
      return fail(c, e.what());
    }
    phase_ = Phase::kSending;
    pace_start_ = std::chrono::steady_clock::now();
    return pump(c);
  }
  if (phase_ == Phase::kEnded && f.type == FrameType::kDone) {
    try {
      const Done d = decode_done(f.payload);
      if (d.files != outcome_.files)
        return fail(c,
                    "the receiver confirmed " + std::to_string(d.files) + " files of " +
                        std::to_string(outcome_.files),
                    false);
    } catch (const ParseError& e) {
      return fail(c, e.what());
    }
    return succeed(c);
  }
  fail(c, std::string("unexpected '") + static_cast<char>(f.type) + "' frame from the receiver");
}

void Sender::on_write_complete(const TcpConnectionPtr& c) {
  if (phase_ == Phase::kSending && !pace_timer_) pump(c);
}

// Sends while the connection takes bytes at once: each chunk goes out when the previous
// one has left our buffer, so at most one chunk waits here (the write-complete callback
// brings us back). With a rate limit, a timer brings us back when the budget allows more.
void Sender::pump(const TcpConnectionPtr& c) {
  while (phase_ == Phase::kSending && !finished() && c->connected() && c->output_bytes() == 0) {
    if (!current_ && !open_next(c)) return;
    if (!current_) {  // every file is out
      c->send(encode_frame(FrameType::kEnd, ""));
      phase_ = Phase::kEnded;
      return;
    }
    if (!send_chunk(c)) return;
  }
}

// Moves to the next file entry that needs sending: skips directories and the files the
// receiver has complete with the same bytes; resumes a partial one whose prefix matches.
// False when the session failed.
bool Sender::open_next(const TcpConnectionPtr& c) {
  const auto& entries = source_->offer.entries;
  while (next_ < entries.size()) {
    const std::size_t i = next_++;
    const Entry& e = entries[i];
    if (e.dir) continue;
    const Have& have = reply_->have[i];
    const std::string& local = source_->local[i];
    auto cur = std::make_unique<Current>();
    cur->index = i;
    cur->fd = ::open(local.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (cur->fd < 0 || ::fstat(cur->fd, &st) != 0) {
      fail(c, "cannot read " + local + ": " + std::strerror(errno), true);
      return false;
    }
    if (static_cast<std::uint64_t>(st.st_size) != e.size) {
      fail(c, local + " changed size since it was offered (" + std::to_string(e.size) + " -> " +
                  std::to_string(st.st_size) + " bytes); send it again");
      return false;
    }
    if (have.bytes > 0 && have.bytes <= e.size) {
      Sha256 prefix;
      if (prefix.update_from_file(cur->fd, have.bytes) && to_hex(prefix.digest()) == have.sha256) {
        if (have.complete && have.bytes == e.size) {
          done_ += e.size;
          report({e.path, e.size, e.size, true, 0});
          continue;
        }
        cur->sha = std::move(prefix);
        cur->offset = cur->at = have.bytes;
        done_ += have.bytes;
      }
    }
    cur->left = e.size - cur->at;
    c->send(encode_frame(FrameType::kFile,
                         encode_file_header({static_cast<std::uint32_t>(i), cur->at})));
    current_ = std::move(cur);
    return true;
  }
  return true;  // none left: current_ stays empty
}

// Reads, hashes and sends one chunk of the current file (the digest after its last byte).
// False when it must wait: for the rate limit's timer, or after a failure.
bool Sender::send_chunk(const TcpConnectionPtr& c) {
  Current& cur = *current_;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(cur.left, kChunk));
  if (options_.rate > 0 && want > 0) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - pace_start_).count();
    const double allowed = static_cast<double>(options_.rate) * elapsed +
                           static_cast<double>(std::min<std::uint64_t>(options_.rate / 10, kChunk));
    if (static_cast<double>(paced_) >= allowed) {
      const double wait =
          (static_cast<double>(paced_) - allowed) / static_cast<double>(options_.rate);
      std::weak_ptr<Session> weak = weak_from_this();
      std::weak_ptr<TcpConnection> conn = c;
      pace_timer_ = loop_->run_after(
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait + 0.001)),
          [weak, conn] {
            auto self = std::static_pointer_cast<Sender>(weak.lock());
            auto cc = conn.lock();
            if (!self || !cc) return;
            self->pace_timer_.reset();
            self->pump(cc);
          });
      return false;
    }
    want = std::min<std::size_t>(
        want, static_cast<std::size_t>(allowed - static_cast<double>(paced_)) + 1);
  }
  chunk_.retrieve_all();
  if (want > 0) {
    chunk_.ensure_writable(want);
    const ssize_t n = ::pread(cur.fd, chunk_.begin_write(), want, static_cast<off_t>(cur.at));
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) {
      fail(c,
           source_->local[cur.index] +
               (n == 0 ? " shrank while it was sent" : ": " + std::string(std::strerror(errno))) +
               "; send it again");
      return false;
    }
    const auto got = static_cast<std::size_t>(n);
    cur.sha.update(chunk_.begin_write(), got);
    chunk_.has_written(got);
    cur.at += got;
    cur.left -= got;
    paced_ += got;
    done_ += got;
    outcome_.bytes += got;
  }
  if (cur.left == 0) {
    const auto digest = cur.sha.digest();
    chunk_.append(digest.data(), digest.size());
    const Entry& e = source_->offer.entries[cur.index];
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - cur.began).count();
    const FileReport r{e.path, e.size, cur.offset, false, seconds};
    current_.reset();
    c->send(chunk_);
    report(r);
    return true;
  }
  c->send(chunk_);
  return true;
}

std::string Sender::closed_early() const {
  if (phase_ == Phase::kOffered)
    return "the receiver closed the connection before it answered the offer";
  return "the receiver closed the connection before it confirmed the transfer (" +
         std::to_string(outcome_.files) + " of " + std::to_string(source_->offer.files()) +
         " files sent)";
}

}  // namespace duplex::transfer
