// Internal to the CLI. What the TLS servers (`http serve --tls`, `echo --tls`) share beyond
// tls_flags.h: the flag checks, --handshake-timeout, the fingerprint line printed at start
// and the one line logged for a client whose handshake failed.
#pragma once

#include <string_view>

#include "args.h"
#include "duplex/reactor/timer_queue.h"
#include "tls_flags.h"

namespace duplex {
class TcpConnection;
}

namespace duplex::cli {

// Refuses --cert, --key and --handshake-timeout without --tls, and --cert without --key.
void check_server_tls_flags(const Args& args);
// --handshake-timeout S (default 10 s).
Clock::duration handshake_timeout_flag(const Args& args);
// "<command>: TLS certificate SHA-256 AB:CD:... (origin)" on stderr; JSON on stdout.
void print_fingerprint(std::string_view command, const ServerTls& tls, bool json);
// A connection that closed before its TLS handshake was done, for a reason (plain HTTP to
// the TLS port, a bad ClientHello, the handshake timeout): one line on stderr. Others: no-op.
void log_tls_failure(std::string_view command, const TcpConnection& c, bool json);

}  // namespace duplex::cli
