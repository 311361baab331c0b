// Public. The wire protocol of `duplex send` and `duplex receive` (version 1): files and
// directories over one TCP (or TLS) stream, resumable, each file checked with SHA-256.
//
// A frame is a type byte, a 4-byte big-endian length and that many bytes of payload. Only
// file data travels outside frames, right after the File frame that announces it. The
// sender speaks first, whichever side connected:
//
//   sender -> receiver  Offer 'O'  JSON {"protocol":"duplex-transfer","version":1,
//                                  "entries":[{"path":"a/b","size":N,"mode":420,
//                                  "mtime":T,"dir":false}, ...]}
//   receiver -> sender  Reply 'R'  JSON {"have":[{"bytes":N,"sha256":"hex","complete":B}, ...]}
//                                  one per entry: what the receiver holds already (a file
//                                  under the final name when complete, else a partial one)
//   sender -> receiver  File  'F'  entry index (u32), offset (u64), big-endian; then the
//                                  file's bytes from offset to its size, raw, then the
//                                  SHA-256 of the whole file (32 raw bytes)
//   sender -> receiver  End   'N'  empty: every file that needed sending was sent
//   receiver -> sender  Done  'D'  JSON {"files":N,"bytes":N,"skipped":N}: all verified and
//                                  in place
//   either              Error 'E'  one UTF-8 line: why the transfer stops; then the close
//   either              Keep  'K'  empty, between frames: still here, hashing (a large file
//                                  is hashed in slices, so that no idle timeout fires)
//
// The sender resumes a file at the receiver's byte count when the SHA-256 of its own first
// that many bytes matches the receiver's, else it starts at 0; a complete copy that matches
// gets no File frame at all (skipped). Files go in offer order.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duplex {
class Buffer;
}

namespace duplex::transfer {

enum class FrameType : char {
  kOffer = 'O',
  kReply = 'R',
  kFile = 'F',
  kEnd = 'N',
  kDone = 'D',
  kError = 'E',
  kKeepAlive = 'K',
};

struct Frame {
  FrameType type = FrameType::kError;
  std::string payload;
};

inline constexpr std::size_t kFrameHeader = 5;
inline constexpr std::size_t kMaxPayload = 64u << 20;  // an offer of ~500,000 entries
inline constexpr std::size_t kMaxEntries = 1'000'000;
inline constexpr std::size_t kMaxPath = 4096;  // PATH_MAX
inline constexpr std::size_t kDigest = 32;     // SHA-256

std::string encode_frame(FrameType type, std::string_view payload);

// Takes one whole frame off the front of `in`; nullopt while it is not all there. Throws
// duplex::ParseError for an unknown type byte (naming what the peer sent, so that a peer
// that does not speak this protocol is recognised) or a length past kMaxPayload.
std::optional<Frame> take_frame(Buffer& in);

struct Entry {
  std::string path;  // relative, '/'-separated
  std::uint64_t size = 0;
  std::uint32_t mode = 0644;  // permission bits only
  std::int64_t mtime = 0;     // seconds since the epoch
  bool dir = false;
};

struct Offer {
  std::vector<Entry> entries;
  std::uint64_t total_bytes() const noexcept;
  std::size_t files() const noexcept;
};

struct Have {
  std::uint64_t bytes = 0;
  std::string sha256;  // lower-case hex of the first `bytes` bytes ("" when bytes is 0)
  bool complete = false;
};

struct Reply {
  std::vector<Have> have;
};

struct FileHeader {
  std::uint32_t index = 0;
  std::uint64_t offset = 0;
};

struct Done {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  std::uint64_t skipped = 0;
};

// Each decode throws duplex::ParseError naming the first problem.
std::string encode_offer(const Offer& offer);
Offer decode_offer(std::string_view json);
std::string encode_reply(const Reply& reply);
Reply decode_reply(std::string_view json, std::size_t entries);
std::string encode_file_header(const FileHeader& h);
FileHeader decode_file_header(std::string_view payload);
std::string encode_done(const Done& done);
Done decode_done(std::string_view json);

// The offer's total of file bytes is at most this (so that no sum of sizes overflows).
inline constexpr std::uint64_t kMaxTotal = std::uint64_t{1} << 62;

// A peer's text (an Error frame) made safe for a terminal and a log line: base's escape(),
// at most `max` characters kept, "..." when cut.
std::string printable(std::string_view text, std::size_t max = 512);

// Why `path` may not be written under the receiver's directory, or nullopt when it may: it
// must be relative and '/'-separated, with no empty, "." or ".." component, no NUL or
// other control character, at most kMaxPath bytes and 255 a component.
std::optional<std::string> path_problem(std::string_view path);

std::string to_hex(const std::array<unsigned char, kDigest>& digest);

}  // namespace duplex::transfer
