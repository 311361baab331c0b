#include "duplex/proto/http_range.h"

#include <unistd.h>

#include <random>

namespace duplex::http {
namespace {

constexpr std::uint64_t kMaxMultipartBytes = 16 * 1024 * 1024;

bool parse_number(std::string_view s, std::uint64_t& v) {
  if (s.empty() || s.size() > 19) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

RangeResult parse_ranges(std::string_view header, std::uint64_t size, RangeSet& out) {
  out.clear();
  if (header.substr(0, 6) != "bytes=") return RangeResult::kIgnore;
  header.remove_prefix(6);
  std::size_t specs = 0;
  while (true) {
    const auto comma = header.find(',');
    const auto spec = trim(header.substr(0, comma));
    if (!spec.empty()) {
      if (++specs > kMaxRanges) return RangeResult::kIgnore;
      const auto dash = spec.find('-');
      if (dash == std::string_view::npos) return RangeResult::kIgnore;
      std::uint64_t a = 0, b = 0;
      if (dash == 0) {  // suffix: the last b bytes
        if (!parse_number(spec.substr(1), b)) return RangeResult::kIgnore;
        if (b > 0 && size > 0) out.push_back({size - std::min(b, size), size - 1});
      } else {
        if (!parse_number(spec.substr(0, dash), a)) return RangeResult::kIgnore;
        const auto tail = spec.substr(dash + 1);
        if (tail.empty()) {
          b = size == 0 ? 0 : size - 1;
        } else if (!parse_number(tail, b) || b < a) {
          return RangeResult::kIgnore;
        }
        if (a < size) out.push_back({a, std::min(b, size - 1)});
      }
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (specs == 0) return RangeResult::kIgnore;
  return out.empty() ? RangeResult::kUnsatisfiable : RangeResult::kOk;
}

std::string content_range(const ByteRange& r, std::uint64_t size) {
  return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" +
         std::to_string(size);
}

bool multipart_body(int fd, const RangeSet& ranges, std::uint64_t size, const std::string& type,
                    Response& res) {
  std::uint64_t total = 0;
  for (const auto& r : ranges) total += r.last - r.first + 1;
  if (total > kMaxMultipartBytes) return false;
  std::random_device rd;
  const std::string boundary = "duplex" + std::to_string(rd()) + std::to_string(rd());
  std::string body;
  body.reserve(static_cast<std::size_t>(total) + ranges.size() * 128);
  for (const auto& r : ranges) {
    body += "--" + boundary + "\r\nContent-Type: " + type +
            "\r\nContent-Range: " + content_range(r, size) + "\r\n\r\n";
    const std::size_t len = static_cast<std::size_t>(r.last - r.first + 1);
    const std::size_t at = body.size();
    body.resize(at + len);
    const ssize_t n = ::pread(fd, body.data() + at, len, static_cast<off_t>(r.first));
    if (n != static_cast<ssize_t>(len)) return false;
    body += "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  res.status = 206;
  res.body = std::move(body);
  res.set("Content-Type", "multipart/byteranges; boundary=" + boundary);
  return true;
}

}  // namespace duplex::http
