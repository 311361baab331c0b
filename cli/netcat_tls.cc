#include "netcat_tls.h"

#include <iostream>
#include <vector>

#include "duplex/proto/tls_filter.h"
#include "duplex/proto/tls_session.h"
#include "duplex/transport/tcp_connection.h"
#include "tls_flags.h"
#include "tls_server.h"

namespace duplex::cli::netcat {

void check_tls_flags(const Args& args, const Common& common, bool server) {
  const std::vector<std::string> client_only = {"ca", "pin", "insecure"};
  const std::vector<std::string> server_only = {"client-ca"};
  if (!common.tls) {
    for (const char* f : {"ca", "pin", "insecure", "cert", "key", "client-ca", "handshake-timeout"})
      if (args.has(f)) args.fail("--" + std::string(f) + " is for TLS; add --tls");
    return;
  }
  if (common.udp) args.fail("--tls is for TCP (DTLS is not supported); leave out -u");
  for (const std::string& f : server ? client_only : server_only)
    if (args.has(f))
      args.fail("--" + f + " is for " + (server ? "duplex connect" : "duplex listen") +
                (server ? " (a listener checks clients with --client-ca FILE)"
                        : " (a client presents its certificate with --cert and --key)"));
  if (args.has("cert") != args.has("key"))
    args.fail("--cert and --key go together: the certificate and its private key");
  const int trust = args.has("ca") + args.has("pin") + args.has("insecure");
  if (trust > 1) args.fail("--ca, --pin and --insecure exclude each other; give one");
}

std::shared_ptr<tls::Context> client_tls(const Args& args, const Events& events) {
  return client_tls_context(args, events.command());
}

std::shared_ptr<tls::Context> server_tls(const Args& args, const Events& events) {
  const ServerTls tls = server_tls_context(args);
  events.emit("tls_certificate", {{"sha256", tls.fingerprint}, {"source", tls.origin}},
              "TLS certificate (" + tls.origin + ")");
  if (!args.has("json"))  // the fingerprint to pin, whatever -v says
    std::cerr << events.command() << ": TLS certificate SHA-256 " << tls.fingerprint << '\n';
  return tls.context;
}

namespace {

// -v: the protocol, the cipher and the peer's certificate of an established session.
void report_session(const tls::Session& s, const Events& events) {
  const std::string subject = s.peer_subject();
  events.emit("tls",
              {{"protocol", s.protocol()},
               {"cipher", s.cipher()},
               {"alpn", s.alpn()},
               {"resumed", s.resumed()},
               {"peer_subject", subject},
               {"peer_sha256", s.peer_fingerprint()}},
              "TLS " + s.protocol() + " " + s.cipher() + (s.resumed() ? " resumed" : "") +
                  (subject.empty() ? std::string(", no peer certificate")
                                   : ", peer " + subject + " SHA-256 " + s.peer_fingerprint()));
}

}  // namespace

void add_tls(apps::RelayOptions& options, const std::shared_ptr<tls::Context>& context,
             const std::string& server_name, const Events& events) {
  options.tls = std::make_shared<tls::Session>(context, server_name);
  if (!events.enabled()) return;
  options.on_tls_established = [&events](const tls::Session& s) { report_session(s, events); };
}

void add_tls(apps::Broker& broker, const std::shared_ptr<tls::Context>& context,
             const Common& common, const Events& events) {
  std::function<void(const TcpConnectionPtr&)> secure;
  if (events.enabled())
    secure = [&events](const TcpConnectionPtr& c) {
      if (const auto* f = dynamic_cast<const tls::Filter*>(c->filter()))
        report_session(f->session(), events);
    };
  broker.set_filter(tls::filter_factory(context), common.handshake_timeout, std::move(secure));
}

void report_tls_failure(const TcpConnection& c, const Common& common) {
  log_tls_failure("duplex listen", c, common.json);
}

}  // namespace duplex::cli::netcat
