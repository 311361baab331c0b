// Public. The exceptions that duplex's constructors and parsers throw.
//
// Every message names the cause and, where there is one, the fix, in one line:
//   "'300.1.1.1' is not an IPv4 address: octet 300 is above 255"
// Hot paths do not throw; they return error codes.
#pragma once

#include <stdexcept>
#include <string>

namespace duplex {

// Something the caller or the system refused; what() is one line for a human.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Text that does not parse as what it was meant to be (an address, a prefix, a MAC...).
class ParseError : public Error {
 public:
  using Error::Error;
};

// Runs `fn`, turning a plain duplex::Error (a split that does not fit, a backwards range)
// into a ParseError: for whoever asked, such a request is bad input.
template <typename Fn>
auto as_parse_error(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const ParseError&) {
    throw;
  } catch (const Error& e) {
    throw ParseError(e.what());
  }
}

}  // namespace duplex
