// Public. What `duplex scan` scans: the hosts, from the words the user wrote.
//
// A target is an address (192.0.2.1, 2001:db8::1), a CIDR prefix (192.0.2.0/24: every
// address in it, as nmap does, network and broadcast included), a range (192.0.2.1-20: the
// last octet; 192.0.2.1-192.0.2.20; 2001:db8::1-ff: the last 16-bit group in hex;
// 2001:db8::1-2001:db8::ff) or a host name, which resolves to its first address. Every word
// is checked before any is expanded, so a typo costs nothing; a malformed one is a
// duplex::ParseError whose message names the word and the fix.
//
// Everything here is a value or pure computation, except that expand_targets() resolves names
// (getaddrinfo) and local_prefixes() reads the interfaces (getifaddrs): all of it is safe to
// call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/inet/address.h"
#include "duplex/inet/prefix.h"

namespace duplex::scan {

// One word of the command line, parsed but not expanded.
struct TargetSpec {
  enum class Kind { address, prefix, range, name };
  Kind kind = Kind::address;
  std::string text;            // as written
  inet::Address first, last;   // the block (address, prefix and range)
  unsigned prefix_length = 0;  // for Kind::prefix

  // How many addresses it stands for (1 for a name); saturates at 2^64 - 1.
  std::uint64_t count() const noexcept;
};

// Throws duplex::ParseError: "'10.0.0.9-3' is a backwards range: write 10.0.0.3-9".
TargetSpec parse_target(std::string_view text);

// One host to scan: its address, and the name it was given by (empty for an address).
struct Target {
  inet::Address address;
  std::string name;
};

// The addresses of every spec, in order, without duplicates; names resolve here
// (duplex::Error naming the name when one does not). `limit`: at most this many addresses
// (duplex::Error naming the count and the fix past it).
std::vector<Target> expand_targets(const std::vector<TargetSpec>& specs,
                                   std::uint64_t limit = std::uint64_t{1} << 24);

// The prefixes of this machine's interfaces (getifaddrs), loopback included.
std::vector<inet::Prefix> local_prefixes();

// Whether scanning `address` stays on this machine or its own links: loopback, or an
// address inside one of `local` (what local_prefixes() returns).
bool is_local(const inet::Address& address, const std::vector<inet::Prefix>& local) noexcept;

}  // namespace duplex::scan
