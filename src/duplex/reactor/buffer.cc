#include "duplex/reactor/buffer.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace duplex {

namespace {
// The first allocation: small, because most connections carry small messages.
constexpr std::size_t kFirstAllocation = 512;
}  // namespace

Buffer::Buffer(Buffer&& other) noexcept
    : data_(std::move(other.data_)),
      capacity_(other.capacity_),
      read_(other.read_),
      write_(other.write_) {
  other.capacity_ = 0;
  other.read_ = other.write_ = kCheapPrepend;
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    data_ = std::move(other.data_);
    capacity_ = other.capacity_;
    read_ = other.read_;
    write_ = other.write_;
    other.capacity_ = 0;
    other.read_ = other.write_ = kCheapPrepend;
  }
  return *this;
}

void Buffer::retrieve(std::size_t n) noexcept {
  if (n < readable_bytes()) {
    read_ += n;
  } else {
    retrieve_all();
  }
}

std::string Buffer::retrieve_as_string(std::size_t n) {
  n = std::min(n, readable_bytes());
  std::string s(peek(), n);
  retrieve(n);
  return s;
}

void Buffer::append(const void* data, std::size_t n) {
  if (n == 0) return;
  ensure_writable(n);
  std::memcpy(begin_write(), data, n);
  has_written(n);
}

void Buffer::prepend(const void* data, std::size_t n) {
  if (n == 0) return;
  if (n > prependable_bytes() || data_ == nullptr) {
    // Rare: move the readable bytes back to leave n bytes in front.
    std::size_t readable = readable_bytes();
    std::size_t cap = std::max(kFirstAllocation, n + readable + kCheapPrepend);
    auto fresh = std::make_unique_for_overwrite<char[]>(cap);
    if (readable) std::memcpy(fresh.get() + n, peek(), readable);
    data_ = std::move(fresh);
    capacity_ = cap;
    read_ = n;
    write_ = n + readable;
  }
  read_ -= n;
  std::memcpy(data_.get() + read_, data, n);
}

void Buffer::ensure_writable(std::size_t n) {
  if (writable_bytes() < n) grow(n);
}

void Buffer::grow(std::size_t n) {
  std::size_t readable = readable_bytes();
  if (data_ && writable_bytes() + prependable_bytes() >= n + kCheapPrepend) {
    // Enough room in total: slide the readable bytes to the front instead of allocating.
    std::memmove(data_.get() + kCheapPrepend, peek(), readable);
  } else {
    std::size_t cap = std::max({kFirstAllocation, kCheapPrepend + readable + n, capacity_ * 2});
    auto fresh = std::make_unique_for_overwrite<char[]>(cap);
    if (readable) std::memcpy(fresh.get() + kCheapPrepend, peek(), readable);
    data_ = std::move(fresh);
    capacity_ = cap;
  }
  read_ = kCheapPrepend;
  write_ = kCheapPrepend + readable;
}

void Buffer::release_if_empty(std::size_t keep) noexcept {
  if (empty() && capacity_ > keep) {
    data_.reset();
    capacity_ = 0;
    read_ = write_ = kCheapPrepend;
  }
}

ssize_t Buffer::read_fd(int fd, int* saved_errno) {
  const std::size_t writable = writable_bytes();
  if (writable >= kExtraReadSize) {
    // Room for a full read already (the loop's shared input buffer): one plain read, no
    // iovec to copy in and no stack buffer.
    const ssize_t n = ::read(fd, begin_write(), writable);
    if (n < 0) {
      *saved_errno = errno;
    } else {
      has_written(static_cast<std::size_t>(n));
    }
    return n;
  }
  char extra[kExtraReadSize];
  iovec vec[2];
  int count = 0;
  if (writable > 0) {
    vec[count].iov_base = begin_write();
    vec[count].iov_len = writable;
    ++count;
  }
  if (writable < sizeof extra) {
    vec[count].iov_base = extra;
    vec[count].iov_len = sizeof extra;
    ++count;
  }
  const ssize_t n = ::readv(fd, vec, count);
  if (n < 0) {
    *saved_errno = errno;
  } else if (static_cast<std::size_t>(n) <= writable) {
    has_written(static_cast<std::size_t>(n));
  } else {
    if (writable > 0) write_ = capacity_;
    append(extra, static_cast<std::size_t>(n) - writable);
  }
  return n;
}

}  // namespace duplex
