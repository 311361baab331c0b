// libFuzzer target for the WebSocket frame decoder and the session above it. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target websocket_frame_fuzz
//   build/fuzz/tests/websocket_frame_fuzz -max_total_time=20 tests/fuzz/corpus/websocket_frame
// The first input byte picks the role and where the bytes are cut in two; the rest is the
// wire. Besides "no crash, no sanitizer report", it checks what a peer relies on: the events
// do not depend on how the bytes were cut, text is valid UTF-8, nothing exceeds the size
// limit, and a failed session has queued a Close.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "duplex/proto/websocket_session.h"

namespace {

using duplex::websocket::Role;
using duplex::websocket::Session;
using duplex::websocket::SessionOptions;

constexpr std::size_t kMaxMessage = 4096;

std::vector<Session::Event> run(Role role, std::span<const std::uint8_t> wire, std::size_t cut,
                                std::string& output) {
  Session s(role, SessionOptions{.max_message_size = kMaxMessage});
  s.receive(wire.first(cut));
  s.receive(wire.subspan(cut));
  std::vector<Session::Event> events;
  Session::Event ev;
  while (s.next_event(ev)) events.push_back(std::move(ev));
  if (!events.empty() && events.back().kind == Session::Event::Kind::error &&
      s.state() != Session::State::closed) {
    std::abort();
  }
  output.assign(s.output());
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Role role = (data[0] & 0x80) ? Role::client : Role::server;
  const std::span<const std::uint8_t> wire(data + 1, size - 1);
  const std::size_t cut = wire.empty() ? 0 : (data[0] & 0x7f) % (wire.size() + 1);
  std::string out_whole, out_cut;
  const auto whole = run(role, wire, wire.size(), out_whole);
  const auto split = run(role, wire, cut, out_cut);
  if (whole.size() != split.size()) std::abort();
  for (std::size_t i = 0; i < whole.size(); ++i) {
    const auto& e = whole[i];
    if (e.kind != split[i].kind || e.data != split[i].data || e.code != split[i].code) {
      std::abort();
    }
    if (e.data.size() > kMaxMessage) std::abort();
    if (e.kind == Session::Event::Kind::text &&
        !duplex::websocket::is_valid_utf8(
            {reinterpret_cast<const std::uint8_t*>(e.data.data()), e.data.size()})) {
      std::abort();
    }
  }
  // Server replies are unmasked and so deterministic: the same whichever way the bytes came.
  if (role == Role::server && out_whole != out_cut) std::abort();
  return 0;
}
