// Public. Where a Redis server is and how to log in to it: the URL of `duplex serve --redis`,
// redis://[user:password@]host[:port][/db], read strictly (one line naming what is wrong and
// how to write it instead). Pure parsing: nothing here connects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace duplex::redis {

inline constexpr std::uint16_t kDefaultPort = 6379;

struct Url {
  std::string host;  // a name or an address; an IPv6 address without its brackets
  std::uint16_t port = kDefaultPort;
  std::string user;      // "": the default user (AUTH with the password alone)
  std::string password;  // "": no AUTH
  int db = 0;            // SELECT db when not 0

  // The URL with the password replaced by "***", for logs and the start-up summary.
  std::string redacted() const;
  // "host:port", with brackets around an IPv6 address.
  std::string endpoint() const;
};

// Throws duplex::ParseError naming the fault and the fix. User and password may carry
// percent escapes (%40 for @); the password can instead come from elsewhere (the caller's
// environment) to keep it out of `ps`.
Url parse_url(std::string_view text);

}  // namespace duplex::redis
