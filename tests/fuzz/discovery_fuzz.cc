// libFuzzer target for the UDP discovery datagrams (apps/chat/discovery*.cc): the server's
// probe check and the prober's parse of an answer, both pure; no socket. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target discovery_fuzz
//   build/fuzz/tests/discovery_fuzz -max_total_time=20 tests/fuzz/corpus/discovery
// Besides "no crash, no sanitizer report", it checks that only the exact probe counts as
// one, and that an answer that parses, written again by the server, parses to the same ports.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "duplex/apps/chat/discovery.h"
#include "duplex/apps/chat/discovery_probe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace duplex;
  const std::string_view datagram(reinterpret_cast<const char*>(data), size);
  if (apps::is_discovery_probe(datagram) != (datagram == apps::discovery_probe())) std::abort();
  const auto from = inet::Address::v4(0x7f000001);
  const auto server = apps::parse_discovery_answer(datagram, from);
  if (!server) return 0;
  if (server->chat_port == 0 || server->address != from) std::abort();
  std::string hex = server->sha256;  // "AB:CD:..." or ""
  std::erase(hex, ':');
  if (!hex.empty() && (!server->tls || hex.size() != 64)) std::abort();
  const apps::DiscoveryInfo info{server->version,   server->host,           server->chat_port,
                                 server->http_port, server->token_required, hex};
  const std::string answer = apps::discovery_answer(info);
  if (answer.size() > 256) std::abort();  // never an amplifier
  const auto again = apps::parse_discovery_answer(answer, from);
  if (!again || again->chat_port != server->chat_port || again->http_port != server->http_port ||
      again->token_required != server->token_required || again->sha256 != server->sha256 ||
      again->tls != !hex.empty())
    std::abort();
  return 0;
}
