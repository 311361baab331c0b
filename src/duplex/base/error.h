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

}  // namespace duplex
