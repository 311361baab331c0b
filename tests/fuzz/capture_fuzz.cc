// libFuzzer target for the whole dissector chain of `duplex capture`: decode_packet, the
// one-line summary, describe_packet, the --json line and the -V/-X tree, as the CLI runs
// them on every packet. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target capture_fuzz
//   build/fuzz/tests/capture_fuzz -max_total_time=20 tests/fuzz/corpus/capture
// The first byte picks the link type (its low 3 bits, kLinkTypes) and whether the snap
// length cut the packet (bit 7: the wire length is then 64 bytes more than the rest of the
// input); bit 6 decodes the TCP payload as WebSocket frames as after an Upgrade
// (decode_websocket_payload), starting bits 3-5 bytes into it (7: at no known frame start);
// the rest is the packet. The seeds are tests/netns/capture_frames.py's frames
// (capture_pcaps.py --corpus writes them).
// Besides "no crash, no sanitizer report", it checks what a user relies on: every header and
// field lies inside the captured bytes (so that -X and the dashboard mark real bytes), and
// the --json line is valid JSON in valid UTF-8 (nlohmann's parser rejects anything else).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "duplex/apps/capture/chain.h"
#include "duplex/apps/capture/json_output.h"
#include "duplex/apps/capture/line_output.h"
#include "duplex/apps/capture/tree_output.h"

namespace {

using namespace duplex;

// Selector 0, 1 and 2 are the seeds' Ethernet, SLL and SLL2; 7 is a link type the chain
// does not read.
constexpr int kLinkTypes[8] = {
    capture::kLinkEthernet, capture::kLinkLinuxSll, capture::kLinkLinuxSll2, capture::kLinkRaw,
    capture::kLinkNull,     capture::kLinkLoop,     capture::kLinkIpv6,      147 /* DLT_USER0 */};

void check_inside(const std::vector<dissect::Field>& fields, std::size_t captured) {
  for (const auto& f : fields) {
    if (std::size_t{f.offset} + f.length > captured) std::abort();
    check_inside(f.children, captured);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int link_type = kLinkTypes[data[0] & 7];
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);
  const auto wire_length =
      static_cast<std::uint32_t>((data[0] & 0x80) != 0 ? bytes.size() + 64 : bytes.size());

  auto packet = capture::decode_packet(link_type, bytes, wire_length);
  if ((data[0] & 0x40) != 0) {
    const unsigned start = (data[0] >> 3) & 7u;
    capture::decode_websocket_payload(packet, bytes, start == 7 ? capture::kUnknownStart : start);
  }
  const capture::Timestamp time{1796454000, 123456};
  capture::LineFormatter lines;
  std::string text;
  lines.append_time(text, time);
  lines.append_summary(text, packet, bytes);

  const auto headers = capture::describe_packet(packet, bytes);
  for (const auto& h : headers) {
    if (std::size_t{h.offset} + h.length > bytes.size()) std::abort();
    check_inside(h.fields, bytes.size());
  }
  std::string json;
  capture::append_packet_json(json, 1, time, packet.length, packet.captured, headers);
  const auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || parsed["layers"].size() != headers.size()) std::abort();
  text = capture::format_tree(headers);
  text += capture::format_hex(headers, bytes);
  return 0;
}
