// libFuzzer target for what `duplex receive` and `duplex send` read from their peer
// (apps/transfer/transfer_protocol): frames cut from a byte stream, and each payload read as
// an offer (the paths a receiver would write), a reply, a File header and a confirmation.
// Build with clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target transfer_protocol_fuzz
//   build/fuzz/tests/transfer_protocol_fuzz -max_total_time=20 tests/fuzz/corpus/transfer_protocol
// Besides "no crash, no sanitizer report", it checks that every path of an offer that
// decodes passes path_problem() (none absolute, none with a ".." component), that a decoded
// offer encodes and decodes to the same entries, and that a frame re-encodes to its bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "duplex/apps/transfer/transfer_protocol.h"
#include "duplex/base/error.h"
#include "duplex/reactor/buffer.h"

using namespace duplex;
using namespace duplex::transfer;

namespace {

void read_payload(const Frame& f) {
  try {
    const Offer offer = decode_offer(f.payload);
    for (const auto& e : offer.entries) {
      if (path_problem(e.path) || e.path.front() == '/' || e.path.find("..") == 0) std::abort();
    }
    const Offer again = decode_offer(encode_offer(offer));
    if (again.entries.size() != offer.entries.size()) std::abort();
    for (std::size_t i = 0; i < offer.entries.size(); ++i)
      if (again.entries[i].path != offer.entries[i].path ||
          again.entries[i].size != offer.entries[i].size)
        std::abort();
    (void)decode_reply(f.payload, offer.entries.size());
  } catch (const ParseError&) {
  }
  try {
    (void)decode_reply(f.payload, 2);
  } catch (const ParseError&) {
  }
  try {
    const FileHeader h = decode_file_header(f.payload);
    if (encode_file_header(h) != f.payload) std::abort();
  } catch (const ParseError&) {
  }
  try {
    (void)decode_done(f.payload);
  } catch (const ParseError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Buffer in;
  // In two pieces, as TCP may cut them, so that a frame split anywhere is put back together.
  const std::size_t cut = size > 0 ? data[0] % (size + 1) : 0;
  in.append(bytes.substr(0, cut));
  try {
    for (int round = 0; round < 2; ++round) {
      while (auto f = take_frame(in)) {
        if (encode_frame(f->type, f->payload).size() != kFrameHeader + f->payload.size())
          std::abort();
        read_payload(*f);
      }
      if (round == 0) in.append(bytes.substr(cut));
    }
  } catch (const ParseError&) {
  }
  (void)path_problem(bytes);
  return 0;
}
