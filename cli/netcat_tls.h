// TLS for `duplex connect --tls` and `duplex listen --tls`: the flags, the context of each
// side, and the relay's session with its -v report.
#pragma once

#include <memory>
#include <string>

#include "args.h"
#include "duplex/apps/netcat/broker.h"
#include "duplex/apps/netcat/stream_relay.h"
#include "duplex/proto/tls_context.h"
#include "netcat.h"

namespace duplex {
class TcpConnection;
}

namespace duplex::cli::netcat {

// Refuses TLS flags that do not apply (without --tls, with -u; --pin with --insecure...).
void check_tls_flags(const Args& args, const Common& common, bool server);
// The client's context: system CAs, --ca, --pin or --insecure (which it says on stderr).
std::shared_ptr<tls::Context> client_tls(const Args& args, const Events& events);
// The server's context: --cert/--key, or the self-signed certificate of the data
// directory; prints its SHA-256 fingerprint on stderr.
std::shared_ptr<tls::Context> server_tls(const Args& args, const Events& events);
// Puts a new session of `context` under the relay (`server_name` for a client).
void add_tls(apps::RelayOptions& options, const std::shared_ptr<tls::Context>& context,
             const std::string& server_name, const Events& events);
// Puts a server session of `context` under every client of the broker (with -v, each
// client's protocol, cipher and certificate once its handshake is done).
void add_tls(apps::Broker& broker, const std::shared_ptr<tls::Context>& context,
             const Common& common, const Events& events);
// A broker's client that closed in its handshake: one line naming why, as a relay's.
void report_tls_failure(const TcpConnection& c, const Common& common);

}  // namespace duplex::cli::netcat
