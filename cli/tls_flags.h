// Internal to the CLI. The TLS flags that every command with --tls reads the same way:
// --ca/--pin/--insecure on a client, --cert/--key on a server (connect/listen, chat, serve).
#pragma once

#include <memory>
#include <string>

#include "args.h"
#include "duplex/proto/tls_context.h"

namespace duplex::cli {

// The client's context: the system CAs, --ca FILE, --pin SHA256 or --insecure (which it says
// on stderr, prefixed with `command`), and --cert/--key, a client certificate, where the
// command has them. A bad flag is a usage error.
std::shared_ptr<tls::Context> client_tls_context(const Args& args, const std::string& command);

// The server's certificate: --cert/--key, or the self-signed one kept in the data directory;
// --client-ca FILE (where the command has it) requires client certificates issued by FILE.
struct ServerTls {
  std::shared_ptr<tls::Context> context;
  std::string fingerprint;  // SHA-256 of the certificate, "AB:CD:..."
  std::string origin;       // where it came from, for the start-up line
};
ServerTls server_tls_context(const Args& args);

}  // namespace duplex::cli
