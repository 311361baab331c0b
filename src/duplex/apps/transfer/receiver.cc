#include "duplex/apps/transfer/receiver.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::transfer {
namespace {

constexpr std::uint64_t kCheckSlice = 64u << 20;  // hashed per loop round before the reply
constexpr std::string_view kPartSuffix = ".duplex-part";

std::string errno_text() { return std::strerror(errno); }

std::string mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

std::string part_leaf(const std::string& leaf) { return "." + leaf + std::string(kPartSuffix); }

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

Receiver::Receiver(ReceiveOptions options, Events events)
    : Session(std::move(events)), options_(std::move(options)) {}

Receiver::~Receiver() = default;

std::string Receiver::part_path(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return part_leaf(path);
  return path.substr(0, slash + 1) + part_leaf(path.substr(slash + 1));
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
    if (f->type == FrameType::kKeepAlive) continue;
    if (f->type == FrameType::kError)
      return fail(c, "the sender stopped: " + printable(f->payload), false);
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

void Receiver::on_write_complete(const TcpConnectionPtr& c) {
  if (phase_ == Phase::kChecking && !finished()) check_step(c);
}

// Checks every path and what exists under it, makes the directories, and lists what we
// hold of each file; the hashes follow in slices (check_step), then the reply.
bool Receiver::take_offer(const TcpConnectionPtr& c, const std::string& payload) {
  try {
    offer_ = decode_offer(payload);
  } catch (const ParseError& e) {
    fail(c, e.what());
    return false;
  }
  total_ = offer_.total_bytes();
  std::string why;
  if (!dest_.open(options_.dir, &why) || !check_offer(c)) {
    if (!why.empty()) fail(c, why);
    return false;
  }
  reply_.have.assign(offer_.entries.size(), Have{});
  std::uint64_t needed = 0;
  for (std::size_t i = 0; i < offer_.entries.size(); ++i) {
    const Entry& e = offer_.entries[i];
    if (e.dir) {
      if (!dest_.dir(e.path, true, &why)) {
        fail(c, why);
        return false;
      }
      continue;
    }
    if (!plan_file(c, i)) return false;
    const bool have_part =
        !checks_.empty() && checks_.back().index == i && !checks_.back().complete;
    needed += e.size - (have_part ? checks_.back().bytes : 0);
  }
  struct statvfs vfs {};
  if (::fstatvfs(dest_.root(), &vfs) == 0) {
    const std::uint64_t free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (needed > free) {
      fail(c, "the offer needs " + mib(needed) + " and " + options_.dir + " has " + mib(free) +
                  " free; make room, or receive elsewhere");
      return false;
    }
  }
  phase_ = Phase::kChecking;
  check_step(c);
  return !finished();
}

// Refuses what no file system walk should meet: a path offered twice, a file offered as
// the directory of another entry, and names of the form of our own part files.
bool Receiver::check_offer(const TcpConnectionPtr& c) {
  std::set<std::string_view> seen;
  std::set<std::string_view> files;
  for (const auto& e : offer_.entries)
    if (!e.dir) files.insert(e.path);
  for (const auto& e : offer_.entries) {
    const std::string_view path = e.path;
    if (!seen.insert(path).second) {
      fail(c, "the offer names " + quote(path) + " twice");
      return false;
    }
    if (ends_with(path, kPartSuffix)) {
      fail(c, "the offer names " + quote(path) +
                  "; names ending in .duplex-part are the receiver's own partial files");
      return false;
    }
    for (auto slash = path.find('/'); slash != std::string_view::npos;
         slash = path.find('/', slash + 1)) {
      if (files.count(path.substr(0, slash)) != 0) {
        fail(c,
             "the offer names " + quote(path.substr(0, slash)) + " as a file and as a directory");
        return false;
      }
    }
  }
  return true;
}

// Makes the file's directory, and queues the hash of what we hold of it: the file itself
// when it has the offered size, else a part of a broken transfer.
bool Receiver::plan_file(const TcpConnectionPtr& c, std::size_t index) {
  const Entry& e = offer_.entries[index];
  std::string why;
  std::string leaf;
  const Fd dir = dest_.parent(e.path, true, &leaf, &why);
  if (!dir) {
    fail(c, why);
    return false;
  }
  struct stat st {};
  if (::fstatat(dir.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISREG(st.st_mode)) {
      fail(c, shown(e.path) +
                  " exists and is not a regular file; move it away, or receive "
                  "elsewhere");
      return false;
    }
    if (static_cast<std::uint64_t>(st.st_size) == e.size) {
      Check k;
      k.index = index;
      k.complete = true;
      k.bytes = e.size;
      k.fd = Fd(::openat(dir.get(), leaf.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (k.fd) {
        checks_.push_back(std::move(k));
        return true;
      }
      if (!options_.overwrite) {
        fail(c, "cannot read " + shown(e.path) + " to compare it (" + errno_text() +
                    "); --overwrite replaces it");
        return false;
      }
    } else if (!options_.overwrite) {
      fail(c, shown(e.path) +
                  " exists with other contents; --overwrite replaces it, or "
                  "receive into another --dir");
      return false;
    }
  }
  const std::string part = part_leaf(leaf);
  if (::fstatat(dir.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
      st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) <= e.size) {
    Check k;
    k.index = index;
    k.bytes = static_cast<std::uint64_t>(st.st_size);
    k.fd = Fd(::openat(dir.get(), part.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (k.fd) checks_.push_back(std::move(k));
  }
  return true;
}

// Hashes up to kCheckSlice of what we hold, then lets the loop go on (a keep-alive frame
// tells the sender we are still here, and its write-complete brings us back); the reply
// goes once everything is hashed.
void Receiver::check_step(const TcpConnectionPtr& c) {
  std::uint64_t budget = kCheckSlice;
  while (next_check_ < checks_.size() && budget > 0) {
    Check& k = checks_[next_check_];
    const std::uint64_t n = std::min(budget, k.bytes - k.at);
    if (n > 0 && !k.sha.update_from_file(k.fd.get(), k.at, k.at + n)) {
      if (k.complete && !options_.overwrite) {
        return fail(c, "cannot read " + shown(offer_.entries[k.index].path) +
                           " to compare it; --overwrite replaces it");
      }
      k.bytes = k.at = 0;  // a part we cannot read: start over
      k.complete = false;
    }
    k.at += n;
    budget -= n;
    if (k.at < k.bytes) break;
    if (k.bytes > 0 || k.complete) {
      reply_.have[k.index] = {k.bytes, to_hex(k.sha.digest()), k.complete};
      if (!k.complete) prefixes_.emplace(k.index, std::move(k.sha));
    }
    k.fd.reset();
    ++next_check_;
  }
  if (next_check_ < checks_.size()) {
    c->send(encode_frame(FrameType::kKeepAlive, ""));
    return;
  }
  checks_.clear();
  phase_ = Phase::kFiles;
  c->send(encode_frame(FrameType::kReply, encode_reply(reply_)));
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
    fail(c, shown(e.path) +
                " exists with other contents; --overwrite replaces it, or receive "
                "into another --dir");
    return false;
  }
  std::string why;
  dir_ = dest_.parent(e.path, false, &leaf_, &why);
  if (!dir_) {
    fail(c, why);
    return false;
  }
  const std::string part = part_leaf(leaf_);
  fd_ = Fd(::openat(dir_.get(), part.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd_ && ::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    fail(c, shown(part_path(e.path)) + " is being received by another transfer right now");
    return false;
  }
  if (!fd_ || ::ftruncate(fd_.get(), static_cast<off_t>(h.offset)) != 0 ||
      ::lseek(fd_.get(), static_cast<off_t>(h.offset), SEEK_SET) < 0) {
    fail(c, "cannot write " + shown(part_path(e.path)) + ": " + errno_text());
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
    const ssize_t w = ::write(fd_.get(), p + at, n - at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      fail(c, "cannot write " + shown(part_path(offer_.entries[index_].path)) + ": " +
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
  const std::string part = part_leaf(leaf_);
  const std::string theirs(in.peek(), kDigest);
  in.retrieve(kDigest);
  const auto ours = sha_->digest();
  sha_.reset();
  if (std::memcmp(ours.data(), theirs.data(), kDigest) != 0) {
    fd_.reset();
    ::unlinkat(dir_.get(), part.c_str(), 0);
    fail(c, shown(e.path) +
                ": the SHA-256 of the bytes received differs from the sender's "
                "(changed on the way, or the file changed while it was sent); "
                "send it again");
    return false;
  }
  const struct timespec times[2] = {{e.mtime, 0}, {e.mtime, 0}};
  ::fchmod(fd_.get(), static_cast<mode_t>(e.mode & 0777));
  ::futimens(fd_.get(), times);
  fd_.reset();
  if (::renameat(dir_.get(), part.c_str(), dir_.get(), leaf_.c_str()) != 0) {
    fail(c, "cannot rename " + shown(part_path(e.path)) + " to " + shown(e.path) + ": " +
                errno_text());
    return false;
  }
  dir_.reset();
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
    std::string why;
    const Fd d = dest_.dir(it->path, false, &why);
    if (!d) continue;
    const struct timespec times[2] = {{it->mtime, 0}, {it->mtime, 0}};
    ::fchmod(d.get(), static_cast<mode_t>(it->mode & 0777));
    ::futimens(d.get(), times);
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
