// Internal to duplex::transfer. The receiver's directory, reached only through directory
// descriptors: each component of an offered path is opened with O_NOFOLLOW beneath the one
// before it (made when missing), so that no symbolic link inside the directory, whoever
// put it there, takes a write, a rename or a chmod out of it.
#pragma once

#include <string>
#include <utility>

namespace duplex::transfer {

// An owned file descriptor; -1 when empty (the sender's open file uses it too).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset() noexcept;

 private:
  int fd_ = -1;
};

class DestDir {
 public:
  // Opens `root` (which must be a directory); false with *why set when it cannot.
  bool open(const std::string& root, std::string* why);
  int root() const noexcept { return root_.get(); }
  const std::string& name() const noexcept { return name_; }

  // The directory `path` (a checked relative path, '/'-separated) beneath the root, made
  // with its missing parents when `create`. An empty Fd with *why set when a component is
  // a symbolic link or not a directory, or cannot be made or opened.
  Fd dir(const std::string& path, bool create, std::string* why) const;
  // The directory that holds `path`, and the last component in *leaf.
  Fd parent(const std::string& path, bool create, std::string* leaf, std::string* why) const;

 private:
  Fd root_;
  std::string name_;
};

}  // namespace duplex::transfer
