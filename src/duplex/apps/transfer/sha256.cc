#include "duplex/apps/transfer/sha256.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "duplex/base/error.h"

namespace duplex::transfer {
namespace {

EVP_MD_CTX* ctx_of(const std::unique_ptr<void, Sha256::Free>& p) {
  return static_cast<EVP_MD_CTX*>(p.get());
}

}  // namespace

void Sha256::Free::operator()(void* ctx) const noexcept {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx));
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_of(ctx_), EVP_sha256(), nullptr) != 1)
    throw Error("OpenSSL cannot start a SHA-256");
}

Sha256::Sha256(const Sha256& other) : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_MD_CTX_copy_ex(ctx_of(ctx_), ctx_of(other.ctx_)) != 1)
    throw Error("OpenSSL cannot copy a SHA-256");
}

Sha256& Sha256::operator=(const Sha256& other) {
  if (this != &other) *this = Sha256(other);
  return *this;
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, std::size_t n) {
  if (n > 0) EVP_DigestUpdate(ctx_of(ctx_), data, n);
}

std::array<unsigned char, kDigest> Sha256::digest() const {
  Sha256 copy(*this);
  std::array<unsigned char, kDigest> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_of(copy.ctx_), out.data(), &len);
  return out;
}

bool Sha256::update_from_file(int fd, std::uint64_t from, std::uint64_t to) {
  std::vector<char> chunk(1 << 20);
  std::uint64_t at = from;
  while (at < to) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(to - at, chunk.size()));
    const ssize_t n = ::pread(fd, chunk.data(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    update(chunk.data(), static_cast<std::size_t>(n));
    at += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace duplex::transfer
