// libFuzzer target for the NDP receiver (inet/ndp.h): decode_ndp on an IPv6 packet, then the
// typed options that `duplex ndp` reads from what it accepted. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target ndp_fuzz
//   build/fuzz/tests/ndp_fuzz -max_total_time=20 tests/fuzz/corpus/ndp
// Besides "no crash, no sanitizer report", it checks what the caller relies on: an accepted
// message has hop limit 255 and a good checksum, and every option lies inside its bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "duplex/inet/ndp.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace duplex::inet;
  const auto m = decode_ndp(std::span<const std::uint8_t>(data, size));
  if (!m) return 0;
  if (m->ip.hop_limit != 255 || m->icmp.checksum_status != ChecksumStatus::good) std::abort();
  if (m->bytes.data() < data || m->bytes.data() + m->bytes.size() > data + size) std::abort();
  for (std::uint8_t i = 0; i < m->icmp.option_count; ++i) {
    const auto& o = m->icmp.options[i];
    if (o.length == 0 || o.at + o.length * 8u > m->bytes.size()) std::abort();
  }
  for (std::uint8_t type = 0; type < 32; ++type) (void)ndp_option(*m, type);
  (void)ndp_prefixes(*m);
  (void)ndp_mtu(*m);
  (void)ndp_dns_servers(*m);
  return 0;
}
