// libFuzzer target for the JSON text frames of /ws/chat (apps/chat/chat_parse.cc): the parse
// the WebSocket session acts on; no socket, no database. Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target chat_ws_fuzz
//   build/fuzz/tests/chat_ws_fuzz -max_total_time=20 tests/fuzz/corpus/chat_ws
// Besides "no crash, no sanitizer report", it checks that a request that parses, written
// back as JSON, parses to the same request: the fields are read, not guessed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "duplex/apps/chat/chat_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using duplex::apps::parse_ws_chat_request;
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const auto request = parse_ws_chat_request(frame);
  if (!request) return 0;
  nlohmann::json j = {{"type", request->type}};
  if (!request->text.empty()) j["text"] = request->text;
  if (!request->name.empty()) j["name"] = request->name;
  if (!request->room.empty()) j["room"] = request->room;
  if (!request->client_id.is_null()) j["client_id"] = request->client_id;
  // Strings that are not UTF-8 are written with U+FFFD, so they need not come back equal.
  const auto text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const auto again = parse_ws_chat_request(text);
  if (!again) std::abort();
  if (text == j.dump(-1, ' ', false, nlohmann::json::error_handler_t::ignore) &&
      (again->type != request->type || again->text != request->text ||
       again->name != request->name || again->room != request->room))
    std::abort();
  return 0;
}
