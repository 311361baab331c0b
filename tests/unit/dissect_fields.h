// Test helpers: look up a described field by its key, as the packet codec tests check them.
#pragma once

#include <string>
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

}  // namespace duplex::test
