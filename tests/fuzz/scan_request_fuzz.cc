// libFuzzer target for the Hosts page's request (/ws/scan, network input): one WebSocket
// text message through parse_scan_request() (apps/dashboard/scan_request.cc), against fixed
// local subnets. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target scan_request_fuzz
//   build/fuzz/tests/scan_request_fuzz -max_total_time=20 tests/fuzz/corpus/scan_request
// Besides "no crash, no sanitizer report", it checks the bounds: an accepted request holds
// 1 to 1024 addresses, every one local, and 1 to 1000 ports; a refused one says why.
// Names are refused before anything resolves them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/apps/dashboard/scan_ws.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<duplex::inet::Prefix> local = {
      duplex::inet::Prefix::parse("127.0.0.1/8"), duplex::inet::Prefix::parse("192.168.1.20/24"),
      duplex::inet::Prefix::parse("10.0.0.5/16"), duplex::inet::Prefix::parse("fd00::1/120")};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const duplex::apps::ScanWsOptions options;
  std::string cause, why;
  const auto r = duplex::apps::parse_scan_request(text, local, options, cause, why);
  if (!r) {
    if (why.empty() || (cause != "request" && cause != "bounds")) std::abort();
    return 0;
  }
  if (r->targets.empty() || r->targets.size() > options.max_addresses) std::abort();
  if (r->ports.empty() || r->ports.size() > options.max_ports) std::abort();
  for (const auto& t : r->targets)
    if (!duplex::scan::is_local(t.address, local)) std::abort();
  for (const auto p : r->ports)
    if (p == 0) std::abort();
  return 0;
}
