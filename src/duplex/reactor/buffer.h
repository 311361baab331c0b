// Public. A byte buffer for a socket's input or output, in the shape muduo made popular:
//
//   +-------------------+------------------+------------------+
//   | prependable bytes |  readable bytes  |  writable bytes  |
//   +-------------------+------------------+------------------+
//   0      <=      read index   <=   write index    <=    capacity
//
// Storage is allocated on the first write, not at construction, so an idle connection's
// buffers cost nothing. A few bytes in front stay free so a length header can be prepended
// without moving the payload. Not thread-safe: a buffer belongs to one connection's loop.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace duplex {

class Buffer {
 public:
  static constexpr std::size_t kCheapPrepend = 8;
  // What read_fd() reads into beyond the writable region: one readv drains up to this much.
  static constexpr std::size_t kExtraReadSize = 64 * 1024;

  Buffer() noexcept = default;
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  std::size_t readable_bytes() const noexcept { return write_ - read_; }
  std::size_t writable_bytes() const noexcept { return capacity_ ? capacity_ - write_ : 0; }
  std::size_t prependable_bytes() const noexcept { return read_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return read_ == write_; }

  // The readable bytes; valid until the next call that writes or retrieves.
  const char* peek() const noexcept { return data_ ? data_.get() + read_ : nullptr; }
  std::string_view view() const noexcept { return {peek(), readable_bytes()}; }

  // Consumes n readable bytes (n is clamped to readable_bytes()).
  void retrieve(std::size_t n) noexcept;
  void retrieve_all() noexcept { read_ = write_ = kCheapPrepend; }
  std::string retrieve_as_string(std::size_t n);
  std::string retrieve_all_as_string() { return retrieve_as_string(readable_bytes()); }

  void append(const void* data, std::size_t n);
  void append(std::string_view s) { append(s.data(), s.size()); }
  // Puts n bytes in front of the readable bytes; cheap for n <= prependable_bytes().
  void prepend(const void* data, std::size_t n);

  // Makes room for n more bytes, by moving the readable bytes forward or by growing.
  void ensure_writable(std::size_t n);
  char* begin_write() noexcept { return data_ ? data_.get() + write_ : nullptr; }
  void has_written(std::size_t n) noexcept { write_ += n; }

  // Gives the storage back when the buffer is empty and holds more than `keep` bytes, so a
  // connection that once carried a burst does not hold on to its peak.
  void release_if_empty(std::size_t keep = 64 * 1024) noexcept;

  // Reads from fd with readv into the writable region and a 64 KiB stack buffer, so one call
  // drains what the socket holds without an ioctl(FIONREAD) to size the buffer first. With
  // at least kExtraReadSize writable already, it is one plain read into the buffer.
  // Returns what read returned; on -1 the errno is in *saved_errno.
  ssize_t read_fd(int fd, int* saved_errno);

 private:
  void grow(std::size_t n);

  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t read_ = kCheapPrepend;
  std::size_t write_ = kCheapPrepend;
};

}  // namespace duplex
