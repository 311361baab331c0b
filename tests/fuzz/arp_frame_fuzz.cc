// libFuzzer target for the ARP frame codec. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target arp_frame_fuzz
//   build/fuzz/tests/arp_frame_fuzz -max_total_time=20 tests/fuzz/corpus/arp_frame
// Besides "no crash, no sanitizer report", it checks that whatever decodes re-encodes to
// the same 42 bytes, so decode() can never accept a frame it misreads.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "duplex/link/arp_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using duplex::link::ArpError;
  using duplex::link::ArpFrame;
  ArpFrame frame;
  const std::span<const std::uint8_t> bytes(data, size);
  if (ArpFrame::decode(bytes, frame) != ArpError::none) return 0;
  const auto wire = frame.encode();
  for (std::size_t i = 0; i < ArpFrame::kLength; ++i) {
    if (wire[i] != data[i]) std::abort();
  }
  ArpFrame again;
  if (ArpFrame::decode(wire, again) != ArpError::none || !(again == frame)) std::abort();
  return 0;
}
