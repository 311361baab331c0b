// libFuzzer target for the TLS stage's record boundary handling (tls::Session). Build with
// clang:
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DDUPLEX_FUZZ=ON
//   cmake --build build/fuzz --target tls_session_fuzz
//   build/fuzz/tests/tls_session_fuzz -max_total_time=20 tests/fuzz/corpus/tls_session
// The first byte picks the mode: even, the rest is plaintext that a client writes after a
// real handshake, and the ciphertext reaches the server in pieces whose sizes (and the read
// limits) come from the second and third bytes; what the server reads must be exactly what
// was written, however cut. Odd, the rest is a peer's raw bytes (a ClientHello or garbage)
// fed to a fresh server in two pieces: it may fail, with one line, but never crash or read
// out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "duplex/proto/tls_session.h"

namespace {

using duplex::Buffer;
using duplex::tls::Context;
using duplex::tls::Session;

struct Contexts {
  Contexts() {
    const auto id = duplex::tls::generate_self_signed({"localhost"}, {"127.0.0.1"});
    server = Context::server({id, true, {}});
    duplex::tls::ClientOptions o;
    o.insecure = true;
    client = Context::client(o);
  }
  std::shared_ptr<Context> server, client;
};

const Contexts& contexts() {
  static const Contexts c;
  return c;
}

void pump(Session& a, Session& b) {
  for (int i = 0; i < 10 && !(a.output().empty() && b.output().empty()); ++i) {
    b.feed(a.output().peek(), a.output().readable_bytes());
    a.output().retrieve_all();
    a.feed(b.output().peek(), b.output().readable_bytes());
    b.output().retrieve_all();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::uint8_t mode = data[0];
  const std::size_t piece = 1 + data[1] % 64u * 7;  // 1..442 bytes of ciphertext at a time
  const std::size_t limit = 1 + data[2] * 16u;      // read limit, 1..4081 bytes
  const char* rest = reinterpret_cast<const char*>(data + 3);
  const std::size_t len = size - 3;
  if (mode & 1) {
    Session server(contexts().server);
    const std::size_t cut = len ? data[1] % len : 0;
    Buffer out;
    if (server.feed(rest, cut) != Session::Status::kFailed &&
        server.feed(rest + cut, len - cut) != Session::Status::kFailed)
      server.read(out, limit);
    if (server.failed() &&
        (server.error().empty() || server.error().find('\n') != std::string::npos))
      std::abort();
    return 0;
  }
  Session client(contexts().client, "localhost");
  Session server(contexts().server);
  client.start();
  pump(client, server);
  if (!client.open() || !server.open()) std::abort();
  if (client.write(rest, len) != Session::Status::kOk) std::abort();
  const std::string wire(client.output().view());
  Buffer out;
  std::string got;
  for (std::size_t at = 0; at < wire.size(); at += piece) {
    const std::size_t n = std::min(piece, wire.size() - at);
    if (server.feed(wire.data() + at, n) == Session::Status::kFailed) std::abort();
    for (;;) {  // until the records fed so far are all read
      if (server.read(out, limit) == Session::Status::kFailed) std::abort();
      if (out.readable_bytes() > limit) std::abort();
      if (out.empty()) break;
      got += out.retrieve_all_as_string();
    }
  }
  if (got != std::string(rest, len)) std::abort();
  return 0;
}
