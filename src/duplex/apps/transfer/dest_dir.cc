#include "duplex/apps/transfer/dest_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace duplex::transfer {

void Fd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool DestDir::open(const std::string& root, std::string* why) {
  name_ = root;
  root_ = Fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_) *why = "cannot open the directory " + root + ": " + std::strerror(errno);
  return static_cast<bool>(root_);
}

Fd DestDir::dir(const std::string& path, bool create, std::string* why) const {
  Fd at(::dup(root_.get()));
  std::size_t start = 0;
  while (at && start < path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    const std::string part = path.substr(start, slash - start);
    const std::string so_far = path.substr(0, slash);
    if (create && ::mkdirat(at.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
      *why = "cannot make the directory " + name_ + "/" + so_far + ": " + std::strerror(errno);
      return Fd();
    }
    Fd next(::openat(at.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      *why = name_ + "/" + so_far +
             (errno == ELOOP || errno == ENOTDIR
                  ? " is a symbolic link or not a directory; nothing is written through it"
                  : ": " + std::string(std::strerror(errno)));
      return Fd();
    }
    at = std::move(next);
    start = slash + 1;
  }
  return at;
}

Fd DestDir::parent(const std::string& path, bool create, std::string* leaf,
                   std::string* why) const {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    *leaf = path;
    return Fd(::dup(root_.get()));
  }
  *leaf = path.substr(slash + 1);
  return dir(path.substr(0, slash), create, why);
}

}  // namespace duplex::transfer
