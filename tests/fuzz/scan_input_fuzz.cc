// libFuzzer target for what `duplex scan` reads: a service's banner bytes (network input)
// through escape_banner(), the same bytes as a packet from the SYN scan's raw TCP and ICMP
// sockets of both families (SynMatcher), and as a services(5) file, a port list and a target word
// (apps/scan). Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target scan_input_fuzz
//   build/fuzz/tests/scan_input_fuzz -max_total_time=20 tests/fuzz/corpus/scan_input
// Besides "no crash, no sanitizer report", it checks that an escaped banner is printable ASCII
// only, that a parsed port list holds ports 1-65535 without duplicates, and that a parsed
// target's block is not backwards, and that a packet matched to a probe gives the state its
// kind stands for. Names are parsed, never resolved.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "duplex/apps/scan/banner.h"
#include "duplex/apps/scan/ports.h"
#include "duplex/apps/scan/services.h"
#include "duplex/apps/scan/syn_socket.h"
#include "duplex/apps/scan/targets.h"
#include "duplex/base/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const std::string escaped = duplex::scan::escape_banner(text, 64);
  for (char c : escaped) {
    if (c < 0x20 || c > 0x7e) std::abort();
  }
  if (escaped.size() > 64 * 4 + 3) std::abort();

  // A fixed secret so that the corpus can hold packets that match (cookie 0 of the seeds).
  const duplex::scan::SynMatcher matcher(61000, 0);
  if (const auto a = matcher.from_tcp({data, size})) {
    if (a->outcome.state != duplex::scan::PortState::open &&
        a->outcome.state != duplex::scan::PortState::closed)
      std::abort();
  }
  if (const auto a = matcher.from_icmp({data, size})) {
    if (a->outcome.state != duplex::scan::PortState::filtered) std::abort();
  }
  // The same bytes as IPv6's raw sockets give them: a segment without its IP header, and an
  // ICMPv6 message.
  if (const auto a = matcher.from_tcp6(duplex::inet::Address::parse("fd99::2"), {data, size})) {
    if (a->outcome.state != duplex::scan::PortState::open &&
        a->outcome.state != duplex::scan::PortState::closed)
      std::abort();
  }
  if (const auto a = matcher.from_icmp6({data, size})) {
    if (a->outcome.state != duplex::scan::PortState::filtered) std::abort();
  }

  const auto services = duplex::scan::Services::parse(text);
  (void)services.name(80, duplex::scan::Protocol::tcp);

  try {
    const auto ports = duplex::scan::parse_ports(text);
    if (ports.empty()) std::abort();
    std::set<std::uint16_t> seen(ports.begin(), ports.end());
    if (seen.size() != ports.size() || seen.count(0) != 0) std::abort();
  } catch (const duplex::ParseError&) {
  }

  try {
    const auto target = duplex::scan::parse_target(text);
    if (target.last < target.first || target.count() == 0) std::abort();
    if (target.kind == duplex::scan::TargetSpec::Kind::name && target.text != text) std::abort();
  } catch (const duplex::ParseError&) {
  }
  return 0;
}
