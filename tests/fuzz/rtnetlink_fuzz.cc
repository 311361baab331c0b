// libFuzzer target for the rtnetlink replies the link layer reads (link/netlink.cc,
// neighbour_table.cc, interface.cc): a buffer as one recv() from the kernel brings it,
// walked message by message, each read as RTM_NEWNEIGH, RTM_NEWLINK and RTM_NEWROUTE; no
// socket. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target rtnetlink_fuzz
//   build/fuzz/tests/rtnetlink_fuzz -max_total_time=20 tests/fuzz/corpus/rtnetlink
// Besides "no crash, no sanitizer report" (a short message or attribute must never be read
// past its end), it checks that a message is read as at most one of the three types.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "duplex/link/internal/netlink.h"
#include "duplex/link/internal/rtnetlink_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace internal = duplex::link::internal;
  internal::for_each_message(std::span<const std::uint8_t>(data, size), [](const nlmsghdr* m) {
    const auto neighbour = internal::neighbour_of(m);
    const auto interface = internal::interface_of(m);
    const auto route = internal::route_of(m);
    if (int{neighbour.has_value()} + int{interface.has_value()} + int{route.has_value()} > 1)
      std::abort();
  });
  return 0;
}
