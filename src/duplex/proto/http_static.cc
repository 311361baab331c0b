#include "duplex/proto/http_static.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "duplex/base/error.h"
#include "duplex/proto/http_range.h"
#include "duplex/proto/http_router.h"

namespace duplex::http {
namespace {

// Files up to this size are sent from memory rather than with sendfile.
constexpr std::uint64_t kInlineFileBytes = 16 * 1024;

// Small files already read, per loop thread, at most this many (then the cache starts over):
// at most 256 x 16 KiB per thread.
constexpr std::size_t kCachedFiles = 256;

std::atomic<std::uint64_t> next_root_id{1};

struct Root {
  std::string path;  // realpath of the root, for the fallback
  int fd = -1;
  bool listing = false;
  std::uint64_t id = next_root_id.fetch_add(1);  // keys the file cache
  ~Root() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens `rel` (no leading slash; "" is the root itself) beneath the root. -1 with errno.
int open_beneath(const Root& root, const std::string& rel) {
  const char* p = rel.empty() ? "." : rel.c_str();
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, root.fd, p, &how, sizeof how);
  if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
  // Fallback for kernels without openat2: resolve, then check the prefix.
  char resolved[PATH_MAX];
  const std::string full = root.path + "/" + rel;
  if (::realpath(full.c_str(), resolved) == nullptr) return -1;
  const std::string_view r(resolved);
  if (r != root.path && (r.substr(0, root.path.size() + 1) != root.path + "/")) {
    errno = EXDEV;
    return -1;
  }
  return ::open(resolved, O_RDONLY | O_CLOEXEC);
}

// A small file as served before: answered again without open, read and close as long as its
// path still leads to the same, unchanged file. One fstatat per request checks that: the
// same device and inode (so the path cannot have been turned into a way out of the root:
// this very file was opened beneath it), size, mtime and ctime (a chmod changes ctime).
struct CachedFile {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  timespec ctime{};
  std::string body;
  std::string etag;
  std::string modified;
  std::string type;
};

std::unordered_map<std::string, CachedFile>& file_cache() {
  thread_local std::unordered_map<std::string, CachedFile> cache;
  return cache;
}

std::string cache_key(const Root& root, const std::string& rel) {
  return std::to_string(root.id) + '/' + rel;
}

bool same_time(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

const CachedFile* cached_file(const Root& root, const std::string& key, const std::string& rel) {
  auto& cache = file_cache();
  const auto it = cache.find(key);
  if (it == cache.end()) return nullptr;
  struct stat st {};
  const CachedFile& f = it->second;
  if (::fstatat(root.fd, rel.c_str(), &st, 0) != 0 || !S_ISREG(st.st_mode) || st.st_dev != f.dev ||
      st.st_ino != f.ino || st.st_size != f.size || !same_time(st.st_mtim, f.mtime) ||
      !same_time(st.st_ctim, f.ctime)) {
    cache.erase(it);
    return nullptr;
  }
  return &f;
}

std::string etag_of(const struct stat& st) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
                    static_cast<unsigned long long>(st.st_mtim.tv_nsec));
  return buf;
}

// If-Match or If-None-Match: "*" or a list of entity tags (RFC 9110 13.1.1, 13.1.2). Our
// ETags are strong; a weak tag in the list matches only in the weak comparison.
bool etag_listed(std::string_view header, const std::string& etag, bool weak) {
  if (header == "*") return true;
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto tag = header.substr(0, comma);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (weak && tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

std::string url_escape_segment(std::string_view name) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        std::strchr("-._~", c) != nullptr) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void list_directory(int dir_fd, const std::string& shown_path, Response& res) {
  DIR* dir = ::fdopendir(::dup(dir_fd));
  if (dir == nullptr) {
    res.text(403, "directory cannot be listed\n");
    return;
  }
  std::vector<std::pair<std::string, bool>> entries;
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    const bool is_dir = ::fstatat(::dirfd(dir), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
    entries.emplace_back(name, is_dir);
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end());
  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of " +
                     html_escape(shown_path) + "</title></head>\n<body><h1>Index of " +
                     html_escape(shown_path) + "</h1>\n<ul>\n";
  for (const auto& [name, is_dir] : entries) {
    const std::string suffix = is_dir ? "/" : "";
    html += "<li><a href=\"" + html_escape(url_escape_segment(name)) + suffix + "\">" +
            html_escape(name) + suffix + "</a></li>\n";
  }
  html += "</ul></body></html>\n";
  res.text(200, std::move(html), "text/html; charset=utf-8");
}

// The conditional requests of RFC 9110 13.2.2, in its order, for a GET or HEAD of a file
// that exists: 412 when If-Match (or, without it, If-Unmodified-Since) fails; then 304
// when If-None-Match (or, without it, If-Modified-Since) says the client's copy is
// current; else 0. A date that does not parse is ignored.
int precondition_status(const Request& req, const std::string& etag, std::int64_t mtime) {
  if (const auto im = req.header("if-match")) {
    if (!etag_listed(*im, etag, false)) return 412;
  } else if (const auto ius = req.header("if-unmodified-since")) {
    const auto t = parse_http_date(*ius);
    if (t >= 0 && mtime > t) return 412;
  }
  if (const auto inm = req.header("if-none-match")) return etag_listed(*inm, etag, true) ? 304 : 0;
  if (const auto ims = req.header("if-modified-since")) {
    const auto t = parse_http_date(*ims);
    if (t >= 0 && mtime <= t) return 304;
  }
  return 0;
}

// Answers a failed precondition (true), or leaves the response alone.
bool answer_precondition(const Request& req, const std::string& etag, std::int64_t mtime,
                         Response& res) {
  const int status = precondition_status(req, etag, mtime);
  if (status == 304) res.status = 304;
  if (status == 412) res.text(412, "precondition failed: the file has changed\n");
  return status != 0;
}

// `cache_as`: where to keep the file if it is small enough to be answered from memory
// (null: do not cache it).
void serve_file(int fd, const struct stat& st, std::string_view name, const Request& req,
                Response& res, const std::string* cache_as = nullptr) {
  auto file = std::make_shared<FileHandle>(fd);
  const std::string etag = etag_of(st);
  const std::string modified = http_date(st.st_mtim.tv_sec);
  res.set("ETag", etag).set("Last-Modified", modified).set("Accept-Ranges", "bytes");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (answer_precondition(req, etag, st.st_mtim.tv_sec, res)) return;
  const std::string type(mime_type(name));
  const auto range = req.header("range");
  bool use_range = range.has_value() && req.method == "GET";
  if (use_range) {
    if (const auto if_range = req.header("if-range")) {
      // A strong ETag match or the exact Last-Modified date; otherwise the whole file.
      use_range = *if_range == etag || *if_range == modified;
    }
  }
  if (use_range) {
    RangeSet set;
    const auto result = parse_ranges(*range, size, set);
    if (result == RangeResult::kUnsatisfiable) {
      res.text(416, "range not satisfiable\n");
      res.set("Content-Range", "bytes */" + std::to_string(size));
      return;
    }
    if (result == RangeResult::kOk) {
      if (set.size() == 1) {
        res.status = 206;
        res.set("Content-Type", type);
        res.set("Content-Range", content_range(set[0], size));
        res.file = std::move(file);
        res.file_offset = set[0].first;
        res.file_length = set[0].last - set[0].first + 1;
        return;
      }
      if (multipart_body(fd, set, size, type, res)) return;
    }
    // kIgnore (malformed or too many ranges): the whole file, as RFC 9110 14.2 allows.
  }
  res.status = 200;
  res.set("Content-Type", type);
  if (size <= kInlineFileBytes) {
    // A small file is read into the response: it then joins the other answers of a
    // pipelined batch in one write, instead of a header write plus a sendfile each.
    res.body.resize(static_cast<std::size_t>(size));
    const ssize_t n = ::pread(fd, res.body.data(), res.body.size(), 0);
    if (n == static_cast<ssize_t>(size)) {
      if (cache_as != nullptr) {
        auto& cache = file_cache();
        if (cache.size() >= kCachedFiles) cache.clear();
        cache[*cache_as] = CachedFile{st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim,
                                      res.body,  etag,      modified,   type};
      }
      return;
    }
    res.body.clear();
  }
  res.file = std::move(file);
  res.file_offset = 0;
  res.file_length = size;
}

void handle(const Root& root, const Request& req, Response& res) {
  if (req.method != "GET" && req.method != "HEAD") {
    res.text(405, "only GET and HEAD\n").set("Allow", "GET, HEAD");
    return;
  }
  std::string path;
  if (!percent_decode(req.path, path) || path.empty() || path.front() != '/') {
    res.text(400, "malformed path\n");
    return;
  }
  if (path.find('\\') != std::string::npos || path.find('\0') != std::string::npos) {
    res.text(403, "forbidden path\n");
    return;
  }
  // Segments: "." and empty ones are dropped, ".." is refused outright.
  std::string rel;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    const auto slash = std::min(path.find('/', pos), path.size());
    const std::string_view seg(path.data() + pos, slash - pos);
    if (seg == "..") {
      res.text(403, "forbidden path\n");
      return;
    }
    if (!seg.empty() && seg != ".") {
      if (!rel.empty()) rel += '/';
      rel += seg;
    }
    pos = slash + 1;
  }
  // A path ending in "/" (or "/.") names a directory: a file there is 404, as open(2) says
  // ENOTDIR.
  const bool names_directory = path.back() == '/' || path.ends_with("/.");
  // Without Range, a small file served before is answered from memory (see CachedFile).
  const bool cacheable = !rel.empty() && !names_directory && !req.header("range").has_value();
  std::string key;
  if (cacheable) {
    key = cache_key(root, rel);
    if (const CachedFile* f = cached_file(root, key, rel)) {
      res.set("ETag", f->etag).set("Last-Modified", f->modified).set("Accept-Ranges", "bytes");
      if (answer_precondition(req, f->etag, f->mtime.tv_sec, res)) return;
      res.status = 200;
      res.set("Content-Type", f->type);
      res.body = f->body;
      return;
    }
  }
  const int fd = open_beneath(root, rel);
  if (fd < 0) {
    if (errno == EXDEV || errno == ELOOP || errno == EACCES || errno == EPERM) {
      res.text(403, "forbidden path\n");
    } else {
      res.text(404, "not found\n");
    }
    return;
  }
  struct stat st {};
  ::fstat(fd, &st);
  if (S_ISDIR(st.st_mode)) {
    FileHandle dir(fd);
    if (path.back() != '/') {
      std::string location(req.path);
      location += '/';
      if (!req.query.empty()) location += "?" + std::string(req.query);
      res.text(301, "moved to " + location + "\n").set("Location", location);
      return;
    }
    const std::string index = rel.empty() ? "index.html" : rel + "/index.html";
    const int index_fd = open_beneath(root, index);
    struct stat ist {};
    if (index_fd >= 0 && ::fstat(index_fd, &ist) == 0 && S_ISREG(ist.st_mode)) {
      serve_file(index_fd, ist, "index.html", req, res);
      return;
    }
    if (index_fd >= 0) ::close(index_fd);
    if (root.listing) {
      list_directory(dir.fd(), path, res);
    } else {
      res.text(403, "directory listing is off\n");
    }
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    res.text(403, "not a regular file\n");
    return;
  }
  if (names_directory) {
    ::close(fd);
    res.text(404, "not found: " + rel + " is a file, not a directory\n");
    return;
  }
  serve_file(fd, st, rel, req, res, cacheable ? &key : nullptr);
}

}  // namespace

Handler static_files(const StaticOptions& options) {
  auto root = std::make_shared<Root>();
  root->listing = options.listing;
  char resolved[PATH_MAX];
  if (::realpath(options.root.c_str(), resolved) == nullptr)
    throw Error("cannot serve '" + options.root + "': " + std::strerror(errno) +
                " (give an existing directory)");
  root->path = resolved;
  root->fd = ::open(resolved, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root->fd < 0)
    throw Error("cannot serve '" + options.root + "': " + std::strerror(errno) +
                " (give a readable directory)");
  return [root](const Request& req, Response& res) { handle(*root, req, res); };
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace duplex::http
