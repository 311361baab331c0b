#include "duplex/apps/transfer/receiver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"

namespace duplex::transfer {
namespace {

namespace fs = std::filesystem;

std::string errno_text() { return std::strerror(errno); }

std::string mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

// The hash of the first `bytes` of the file at `path`; nullopt when it cannot be read.
std::optional<Sha256> hash_file(const std::string& path, std::uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  Sha256 sha;
  const bool ok = sha.update_from_file(fd, bytes);
  ::close(fd);
  if (!ok) return std::nullopt;
  return sha;
}

}  // namespace

Receiver::Receiver(ReceiveOptions options, Events events)
    : Session(std::move(events)), options_(std::move(options)) {}

Receiver::~Receiver() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Receiver::part_path(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return "." + path + ".duplex-part";
  return path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".duplex-part";
}

void Receiver::start(const TcpConnectionPtr&) {}  // the sender speaks first

void Receiver::on_message(const TcpConnectionPtr& c, Buffer& in) {
  while (!finished() && in.readable_bytes() > 0) {
    if (phase_ == Phase::kData) {
      if (!take_data(c, in)) return;
      continue;
    }
    if (phase_ == Phase::kTrailer) {
      if (in.readable_bytes() < kDigest) return;
      if (!finish_file(c, in)) return;
      continue;
    }
    std::optional<Frame> f = next_frame(c, in);
    if (!f) return;
    if (f->type == FrameType::kError) return fail(c, "the sender stopped: " + f->payload, false);
    if (phase_ == Phase::kOffer && f->type == FrameType::kOffer) {
      if (!take_offer(c, f->payload)) return;
    } else if (phase_ == Phase::kFiles && f->type == FrameType::kFile) {
      if (!begin_file(c, f->payload)) return;
    } else if (phase_ == Phase::kFiles && f->type == FrameType::kEnd) {
      return finish(c);
    } else {
      return fail(
          c, std::string("unexpected '") + static_cast<char>(f->type) + "' frame from the sender");
    }
  }
  if (finished()) in.retrieve_all();
}

// Checks every path and what exists under it, makes the directories, and answers with
// what we hold of each file.
bool Receiver::take_offer(const TcpConnectionPtr& c, const std::string& payload) {
  try {
    offer_ = decode_offer(payload);
  } catch (const ParseError& e) {
    fail(c, e.what());
    return false;
  }
  total_ = offer_.total_bytes();
  std::set<std::string> seen;
  std::uint64_t needed = 0;
  reply_.have.assign(offer_.entries.size(), Have{});
  for (std::size_t i = 0; i < offer_.entries.size(); ++i) {
    const Entry& e = offer_.entries[i];
    if (!seen.insert(e.path).second) {
      fail(c, "the offer names " + quote(e.path) + " twice");
      return false;
    }
    const std::string path = local(e.path);
    std::error_code ec;
    fs::create_directories(e.dir ? fs::path(path) : fs::path(path).parent_path(), ec);
    if (ec) {
      fail(c, "cannot make the directory for " + path + ": " + ec.message());
      return false;
    }
    if (e.dir) continue;
    struct stat st {};
    Have& have = reply_.have[i];
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISREG(st.st_mode)) {
        fail(c, path + " exists and is not a regular file; move it away, or receive elsewhere");
        return false;
      }
      if (static_cast<std::uint64_t>(st.st_size) == e.size) {
        if (auto sha = hash_file(path, e.size)) {
          have = {e.size, to_hex(sha->digest()), true};
          continue;
        }
      } else if (!options_.overwrite) {
        fail(c, path +
                    " exists with other contents; --overwrite replaces it, or receive into "
                    "another --dir");
        return false;
      }
    }
    const std::string part = local(part_path(e.path));
    if (::lstat(part.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        static_cast<std::uint64_t>(st.st_size) <= e.size) {
      if (auto sha = hash_file(part, static_cast<std::uint64_t>(st.st_size))) {
        have = {static_cast<std::uint64_t>(st.st_size), to_hex(sha->digest()), false};
        prefixes_.emplace(i, std::move(*sha));
      }
    }
    needed += e.size - have.bytes;
  }
  struct statvfs vfs {};
  if (::statvfs(options_.dir.c_str(), &vfs) == 0) {
    const std::uint64_t free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (needed > free) {
      fail(c, "the offer needs " + mib(needed) + " and " + options_.dir + " has " + mib(free) +
                  " free; make room, or receive elsewhere");
      return false;
    }
  }
  c->send(encode_frame(FrameType::kReply, encode_reply(reply_)));
  phase_ = Phase::kFiles;
  return true;
}

// Entries before `index` that the sender did not send: it found our complete copies the
// same, or they are directories.
bool Receiver::skip_to(const TcpConnectionPtr& c, std::size_t index) {
  for (; next_ < index; ++next_) {
    const Entry& e = offer_.entries[next_];
    if (e.dir) continue;
    if (!reply_.have[next_].complete) {
      fail(c, "the sender skipped " + quote(e.path) + ", which we do not have");
      return false;
    }
    done_ += e.size;
    report({e.path, e.size, e.size, true, 0});
  }
  return true;
}

bool Receiver::begin_file(const TcpConnectionPtr& c, const std::string& payload) {
  FileHeader h;
  try {
    h = decode_file_header(payload);
  } catch (const ParseError& e) {
    fail(c, e.what());
    return false;
  }
  if (h.index < next_ || h.index >= offer_.entries.size() || offer_.entries[h.index].dir) {
    fail(c, "a File frame for entry " + std::to_string(h.index) + ", out of order or no file");
    return false;
  }
  if (!skip_to(c, h.index)) return false;
  const Entry& e = offer_.entries[h.index];
  const Have& have = reply_.have[h.index];
  const bool resume = h.offset > 0 && h.offset == have.bytes && !have.complete;
  if (h.offset != 0 && !resume) {
    fail(c, "the sender resumes " + quote(e.path) + " at byte " + std::to_string(h.offset) +
                ", where we have nothing");
    return false;
  }
  if (have.complete && !options_.overwrite) {
    fail(c, local(e.path) +
                " exists with other contents; --overwrite replaces it, or receive "
                "into another --dir");
    return false;
  }
  const std::string part = local(part_path(e.path));
  fd_ = ::open(part.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0 || ::ftruncate(fd_, static_cast<off_t>(h.offset)) != 0 ||
      ::lseek(fd_, static_cast<off_t>(h.offset), SEEK_SET) < 0) {
    fail(c, "cannot write " + part + ": " + errno_text());
    return false;
  }
  index_ = h.index;
  next_ = h.index + 1;
  offset_ = h.offset;
  left_ = e.size - h.offset;
  if (resume) {
    sha_.emplace(std::move(prefixes_.at(h.index)));
    done_ += h.offset;
  } else {
    sha_.emplace();
  }
  prefixes_.erase(h.index);
  began_ = std::chrono::steady_clock::now();
  phase_ = left_ > 0 ? Phase::kData : Phase::kTrailer;
  return true;
}

bool Receiver::take_data(const TcpConnectionPtr& c, Buffer& in) {
  const std::size_t n =
      static_cast<std::size_t>(std::min<std::uint64_t>(left_, in.readable_bytes()));
  const char* p = in.peek();
  for (std::size_t at = 0; at < n;) {
    const ssize_t w = ::write(fd_, p + at, n - at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      fail(c, "cannot write " + local(part_path(offer_.entries[index_].path)) + ": " +
                  errno_text() + " (the part is kept and resumed next time)");
      return false;
    }
    at += static_cast<std::size_t>(w);
  }
  sha_->update(p, n);
  in.retrieve(n);
  left_ -= n;
  done_ += n;
  outcome_.bytes += n;
  if (left_ == 0) phase_ = Phase::kTrailer;
  return true;
}

// The sender's digest is here: compare, then put the file in place.
bool Receiver::finish_file(const TcpConnectionPtr& c, Buffer& in) {
  const Entry& e = offer_.entries[index_];
  const std::string part = local(part_path(e.path));
  const std::string theirs(in.peek(), kDigest);
  in.retrieve(kDigest);
  const auto ours = sha_->digest();
  sha_.reset();
  if (std::memcmp(ours.data(), theirs.data(), kDigest) != 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(part.c_str());
    fail(c, local(e.path) +
                ": the SHA-256 of the bytes received differs from the sender's "
                "(changed on the way, or the file changed while it was sent); "
                "send it again");
    return false;
  }
  const struct timespec times[2] = {{e.mtime, 0}, {e.mtime, 0}};
  ::fchmod(fd_, static_cast<mode_t>(e.mode & 0777));
  ::futimens(fd_, times);
  ::close(fd_);
  fd_ = -1;
  if (::rename(part.c_str(), local(e.path).c_str()) != 0) {
    fail(c, "cannot rename " + part + " to " + local(e.path) + ": " + errno_text());
    return false;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
  report({e.path, e.size, offset_, false, seconds});
  phase_ = Phase::kFiles;
  return true;
}

// The sender's End: the rest were skipped; directories get their modes and times last,
// deepest first, so that a read-only one did not stop what went into it.
void Receiver::finish(const TcpConnectionPtr& c) {
  if (!skip_to(c, offer_.entries.size())) return;
  for (auto it = offer_.entries.rbegin(); it != offer_.entries.rend(); ++it) {
    if (!it->dir) continue;
    const std::string path = local(it->path);
    const struct timespec times[2] = {{it->mtime, 0}, {it->mtime, 0}};
    ::chmod(path.c_str(), static_cast<mode_t>(it->mode & 0777));
    ::utimensat(AT_FDCWD, path.c_str(), times, 0);
  }
  phase_ = Phase::kEnded;
  c->send(encode_frame(FrameType::kDone,
                       encode_done({outcome_.files, outcome_.bytes, outcome_.skipped})));
  succeed(c);
}

std::string Receiver::closed_early() const {
  if (phase_ == Phase::kOffer) return "the sender closed the connection before its offer";
  std::string why = "the sender closed the connection before the end (" +
                    std::to_string(outcome_.files) + " of " + std::to_string(offer_.files()) +
                    " files received";
  if (phase_ == Phase::kData || phase_ == Phase::kTrailer)
    why += "; the part of " + offer_.entries[index_].path + " is kept and resumed next time";
  return why + ")";
}

}  // namespace duplex::transfer
