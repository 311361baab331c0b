// Test helpers: look up a described field by its key, as the packet codec tests check them.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/base/dissect.h"

namespace duplex::test {

// The nth field (0 = first) with `key` among `fields`, or nullptr.
inline const dissect::Field* find_field(const std::vector<dissect::Field>& fields,
                                        const std::string& key, int nth = 0) {
  for (const auto& f : fields)
    if (f.key == key && nth-- == 0) return &f;
  return nullptr;
}
inline const dissect::Field* find_field(const dissect::Header& h, const std::string& key,
                                        int nth = 0) {
  return find_field(h.fields, key, nth);
}

// Its value, or "<missing key>" so that a failed check names what was not there.
inline std::string field_value(const std::vector<dissect::Field>& fields, const std::string& key,
                               int nth = 0) {
  const auto* f = find_field(fields, key, nth);
  return f ? f->value : "<missing " + key + ">";
}
inline std::string field_value(const dissect::Header& h, const std::string& key, int nth = 0) {
  return field_value(h.fields, key, nth);
}

// Expects every field, children included, to lie within the `captured` bytes of the packet;
// `context` names the failing case (a round, a prefix length).
inline void expect_fields_inside(const std::vector<dissect::Field>& fields, std::size_t captured,
                                 const std::string& context) {
  for (const auto& f : fields) {
    EXPECT_LE(std::size_t{f.offset} + f.length, captured) << f.key << " " << context;
    expect_fields_inside(f.children, captured, context);
  }
}

// Bytes from hex text, as scapy's bytes(p).hex() prints them.
inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> b;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    b.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return b;
}

}  // namespace duplex::test
