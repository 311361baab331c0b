// Public. Adds a header's fields only when their bytes were captured, so that describe() of
// a truncated header shows what it had and nothing it did not; positions are from the
// header's first byte, the fields get absolute offsets.
//   dissect::CapturedFields field(out, offset, bytes.size());
//   field("ip.ttl", "Time to Live", decimal(h.ttl), 8, 1);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "duplex/base/dissect.h"

namespace duplex::dissect {

class CapturedFields {
 public:
  CapturedFields(Header& out, std::uint32_t offset, std::size_t captured) noexcept
      : out_(out), offset_(offset), captured_(captured) {}

  // The new field, or nullptr when its bytes run past the capture.
  Field* operator()(std::string key, std::string label, std::string value, std::uint32_t at,
                    std::uint32_t length, std::string meaning = {}) {
    if (std::size_t{at} + length > captured_) return nullptr;
    return &add(out_.fields, std::move(key), std::move(label), std::move(value), offset_ + at,
                length, std::move(meaning));
  }

 private:
  Header& out_;
  std::uint32_t offset_;
  std::size_t captured_;
};

}  // namespace duplex::dissect
