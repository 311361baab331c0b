// Internal to duplex::transfer. SHA-256 over a stream (OpenSSL's EVP), copyable so that a
// prefix hashed once can be both compared and carried on.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "duplex/apps/transfer/transfer_protocol.h"

namespace duplex::transfer {

class Sha256 {
 public:
  Sha256();
  Sha256(const Sha256& other);
  Sha256& operator=(const Sha256& other);
  Sha256(Sha256&&) noexcept = default;
  Sha256& operator=(Sha256&&) noexcept = default;
  ~Sha256();

  void update(const void* data, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // The digest of what was given so far; the object goes on taking bytes after it.
  std::array<unsigned char, kDigest> digest() const;

  // Reads [from, to) of `fd` (pread, so the file offset stays) into this. False when the
  // file ended first or a read failed (errno says why).
  bool update_from_file(int fd, std::uint64_t from, std::uint64_t to);
  bool update_from_file(int fd, std::uint64_t bytes) { return update_from_file(fd, 0, bytes); }

  struct Free {  // EVP_MD_CTX_free
    void operator()(void* ctx) const noexcept;
  };

 private:
  std::unique_ptr<void, Free> ctx_;
};

}  // namespace duplex::transfer
