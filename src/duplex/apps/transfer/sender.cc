#include "duplex/apps/transfer/sender.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "duplex/apps/transfer/dest_dir.h"
#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::transfer {
namespace {

constexpr std::size_t kChunk = 256 * 1024;
constexpr std::uint64_t kCheckSlice = 64u << 20;  // hashed per step before a resume

}  // namespace

// The file being sent: its descriptor, where the next read starts, what is left, and the
// hash of everything before that point.
struct Sender::Current {
  std::size_t index = 0;
  Fd fd;
  std::uint64_t at = 0;
  std::uint64_t left = 0;
  std::uint64_t offset = 0;
  bool checking = false;  // hashing our first check_to bytes, to compare
  std::uint64_t check_to = 0;
  Sha256 sha;
  std::chrono::steady_clock::time_point began = std::chrono::steady_clock::now();
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
  if (f.type == FrameType::kKeepAlive) return;
  if (f.type == FrameType::kError)
    return fail(c, "the receiver refused: " + printable(f.payload), false);
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

// One step at a time: each step that sends something returns, and the write-complete
// callback of what it sent (queued even when the kernel took it at once) brings the next,
// so a fast receiver does not hold the loop for a whole file and what the receiver says
// (an Error frame) is read between chunks. Steps that send nothing go on at once.
void Sender::pump(const TcpConnectionPtr& c) {
  while (phase_ == Phase::kSending && !finished() && c->connected() && c->output_bytes() == 0) {
    if (step(c) != Step::kNothing) return;
  }
}

Sender::Step Sender::step(const TcpConnectionPtr& c) {
  if (!current_) return open_next(c);
  if (current_->checking) return check_prefix(c);
  return send_chunk(c);
}

// Moves to the next file entry: opens it, and when the receiver holds some of it (a part,
// or a complete copy) starts to hash our own first that many bytes. With none left, End.
Sender::Step Sender::open_next(const TcpConnectionPtr& c) {
  const auto& entries = source_->offer.entries;
  while (next_ < entries.size() && entries[next_].dir) ++next_;
  if (next_ == entries.size()) {
    c->send(encode_frame(FrameType::kEnd, ""));
    phase_ = Phase::kEnded;
    return Step::kSent;
  }
  const std::size_t i = next_++;
  const Entry& e = entries[i];
  const Have& have = reply_->have[i];
  const std::string& local = source_->local[i];
  auto cur = std::make_unique<Current>();
  cur->index = i;
  cur->fd = Fd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!cur->fd || ::fstat(cur->fd.get(), &st) != 0) {
    fail(c, "cannot read " + local + ": " + std::strerror(errno));
    return Step::kWait;
  }
  if (static_cast<std::uint64_t>(st.st_size) != e.size) {
    fail(c, local + " changed size since it was offered (" + std::to_string(e.size) + " -> " +
                std::to_string(st.st_size) + " bytes); send it again");
    return Step::kWait;
  }
  cur->left = e.size;
  if (have.complete ? have.bytes == e.size : have.bytes > 0 && have.bytes <= e.size) {
    cur->checking = true;
    cur->check_to = have.bytes;
  }
  current_ = std::move(cur);
  if (current_->checking) return Step::kNothing;
  c->send(encode_frame(FrameType::kFile, encode_file_header({static_cast<std::uint32_t>(i), 0})));
  return Step::kSent;
}

// Hashes up to kCheckSlice of our first bytes (a keep-alive frame then tells the receiver
// we are still here); at the end, the same bytes as the receiver's complete copy skip the
// file, as its part resume it there, and anything else starts it at 0.
Sender::Step Sender::check_prefix(const TcpConnectionPtr& c) {
  Current& cur = *current_;
  const std::uint64_t n = std::min<std::uint64_t>(kCheckSlice, cur.check_to - cur.at);
  if (n > 0 && !cur.sha.update_from_file(cur.fd.get(), cur.at, cur.at + n)) {
    fail(c, "cannot read " + source_->local[cur.index] + ": " + std::strerror(errno));
    return Step::kWait;
  }
  cur.at += n;
  if (cur.at < cur.check_to) {
    c->send(encode_frame(FrameType::kKeepAlive, ""));
    return Step::kSent;
  }
  const Entry& e = source_->offer.entries[cur.index];
  const Have& have = reply_->have[cur.index];
  cur.checking = false;
  cur.check_to = 0;
  if (to_hex(cur.sha.digest()) == have.sha256) {
    if (have.complete) {
      done_ += e.size;
      current_.reset();
      report({e.path, e.size, e.size, true, 0});
      return Step::kNothing;
    }
    cur.offset = cur.at;
    cur.left = e.size - cur.at;
    done_ += cur.at;
  } else {
    cur.sha = Sha256();
    cur.at = 0;
  }
  c->send(encode_frame(FrameType::kFile,
                       encode_file_header({static_cast<std::uint32_t>(cur.index), cur.at})));
  return Step::kSent;
}

// Reads, hashes and sends one chunk of the current file (the digest after its last byte).
Sender::Step Sender::send_chunk(const TcpConnectionPtr& c) {
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
      return Step::kWait;
    }
    want = std::min<std::size_t>(
        want, static_cast<std::size_t>(allowed - static_cast<double>(paced_)) + 1);
  }
  chunk_.retrieve_all();
  if (want > 0) {
    chunk_.ensure_writable(want);
    ssize_t n = -1;
    do {
      n = ::pread(cur.fd.get(), chunk_.begin_write(), want, static_cast<off_t>(cur.at));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      fail(c,
           source_->local[cur.index] +
               (n == 0 ? " shrank while it was sent" : ": " + std::string(std::strerror(errno))) +
               "; send it again");
      return Step::kWait;
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
    return Step::kSent;
  }
  c->send(chunk_);
  return Step::kSent;
}

std::string Sender::closed_early() const {
  if (phase_ == Phase::kOffered)
    return "the receiver closed the connection before it answered the offer";
  return "the receiver closed the connection before it confirmed the transfer (" +
         std::to_string(outcome_.files) + " of " + std::to_string(source_->offer.files()) +
         " files sent)";
}

}  // namespace duplex::transfer
