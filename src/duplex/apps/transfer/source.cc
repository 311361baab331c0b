#include "duplex/apps/transfer/source.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "duplex/base/error.h"

namespace duplex::transfer {
namespace {

namespace fs = std::filesystem;

Entry entry_for(const std::string& offered, const struct stat& st) {
  Entry e;
  e.path = offered;
  e.dir = S_ISDIR(st.st_mode);
  e.size = e.dir ? 0 : static_cast<std::uint64_t>(st.st_size);
  e.mode = static_cast<std::uint32_t>(st.st_mode & 0777);
  e.mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec);
  return e;
}

// The name a command-line path is offered under: its last component ("a/b/" -> "b",
// "." -> the current directory's name).
std::string offered_name(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  if (p.filename() == "." || p.filename() == ".." || p.empty()) {
    std::error_code ec;
    p = fs::weakly_canonical(fs::absolute(path), ec);
  }
  std::string name = p.filename().string();
  if (name.empty() || name == "/")
    throw Error("cannot send " + path + " as a whole; name the files or directories in it");
  return name;
}

class Collector {
 public:
  Source source;

  void add(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      throw Error("cannot send " + path + ": " + std::strerror(errno));
    const std::string name = offered_name(path);
    if (S_ISREG(st.st_mode)) {
      take(name, path, st);
    } else if (S_ISDIR(st.st_mode)) {
      take(name, path, st);
      walk(name, path);
    } else {
      throw Error("cannot send " + path + ": not a regular file or a directory");
    }
  }

 private:
  void take(const std::string& offered, const std::string& local, const struct stat& st) {
    if (!S_ISDIR(st.st_mode) && ::access(local.c_str(), R_OK) != 0)
      throw Error("cannot send " + local + ": " + std::strerror(errno));
    if (auto problem = path_problem(offered)) throw Error("cannot send " + local + ": " + *problem);
    if (!seen_.insert(offered).second)
      throw Error(offered + " is named twice; send the two from separate commands");
    source.offer.entries.push_back(entry_for(offered, st));
    source.local.push_back(local);
  }

  void walk(const std::string& offered, const std::string& local) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(local, ec), end; !ec && it != end; it.increment(ec))
      names.push_back(it->path().filename().string());
    if (ec) throw Error("cannot read the directory " + local + ": " + ec.message());
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      const std::string child = local + "/" + name;
      const std::string child_offered = offered + "/" + name;
      struct stat st {};
      if (::lstat(child.c_str(), &st) != 0) {
        source.left_out.push_back(child + ": " + std::strerror(errno));
      } else if (S_ISLNK(st.st_mode)) {
        source.left_out.push_back(child + ": a symbolic link (name its target to send it)");
      } else if (S_ISREG(st.st_mode)) {
        take(child_offered, child, st);
      } else if (S_ISDIR(st.st_mode)) {
        take(child_offered, child, st);
        walk(child_offered, child);
      } else {
        source.left_out.push_back(child + ": not a regular file or a directory");
      }
      if (source.offer.entries.size() > kMaxEntries)
        throw Error("more than " + std::to_string(kMaxEntries) +
                    " files and directories; send them in parts (or as one archive)");
    }
  }

  std::set<std::string> seen_;
};

}  // namespace

Source collect(const std::vector<std::string>& paths) {
  Collector c;
  for (const auto& p : paths) c.add(p);
  return std::move(c.source);
}

}  // namespace duplex::transfer
