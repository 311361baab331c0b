// The unit tests' rule for a missing prerequisite (root, a capability, a namespace): skip
// with the reason, except under CI=true, where CI runs as root with everything installed and
// a skip would hide a test that never ran: there it fails, naming what is missing.
// (tests/prerequisites.py and tests/prerequisites.mjs say the same for the other tests.)
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

namespace duplex::test {

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

}  // namespace duplex::test

// A macro, as GTEST_SKIP and FAIL are: both return from the test body.
#define DUPLEX_SKIP_UNLESS_CI(why)                                          \
  do {                                                                      \
    if (::duplex::test::in_ci()) FAIL() << "missing prerequisite: " << why; \
    GTEST_SKIP() << why;                                                    \
  } while (0)
