#include "netcat_tls.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "duplex/base/error.h"
#include "duplex/proto/tls_session.h"

namespace duplex::cli::netcat {
namespace {

std::string read_pem(const Args& args, const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) args.fail(flag + " " + path + ": cannot read the file; check the path");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

void check_tls_flags(const Args& args, const Common& common, bool server) {
  const std::vector<std::string> client_only = {"ca", "pin", "insecure"};
  const std::vector<std::string> server_only = {"cert", "key"};
  if (!common.tls) {
    for (const char* f : {"ca", "pin", "insecure", "cert", "key", "handshake-timeout"})
      if (args.has(f)) args.fail("--" + std::string(f) + " is for TLS; add --tls");
    return;
  }
  if (common.udp) args.fail("--tls is for TCP (DTLS is not supported); leave out -u");
  for (const std::string& f : server ? client_only : server_only)
    if (args.has(f))
      args.fail("--" + f + " is for " + (server ? "duplex connect" : "duplex listen") +
                " (client certificates are not supported yet)");
  if (args.has("cert") != args.has("key"))
    args.fail("--cert and --key go together: the certificate and its private key");
  const int trust = args.has("ca") + args.has("pin") + args.has("insecure");
  if (trust > 1) args.fail("--ca, --pin and --insecure exclude each other; give one");
  if (args.has("exec") || args.has("sh-exec") || args.has("broker"))
    args.fail("--tls with --exec, --sh-exec or --broker is not supported yet; use plain listen");
}

std::shared_ptr<tls::Context> client_tls(const Args& args, const Events& events) {
  tls::ClientOptions o;
  o.ca_file = args.value("ca").value_or("");
  if (auto pin = args.value("pin")) {
    o.pin = tls::parse_fingerprint(*pin);
    if (!o.pin)
      args.fail("--pin '" + *pin +
                "' is not a SHA-256 fingerprint: 64 hex digits, colons allowed (as `duplex "
                "listen --tls` prints it)");
  }
  o.insecure = args.has("insecure");
  if (o.insecure)
    std::cerr << events.command()
              << ": --insecure: the server's certificate and name are NOT checked; anyone on "
                 "the path can read and change this connection\n";
  try {
    return tls::Context::client(o);
  } catch (const Error& e) {
    args.fail(e.what());
  }
}

std::shared_ptr<tls::Context> server_tls(const Args& args, const Events& events) {
  tls::ServerOptions o;
  std::string origin;
  try {
    if (auto cert = args.value("cert")) {
      o.identity.cert_pem = read_pem(args, "--cert", *cert);
      o.identity.key_pem = read_pem(args, "--key", *args.value("key"));
      origin = *cert;
    } else {
      const std::string dir = tls::default_certificate_dir();
      bool created = false;
      o.identity = tls::self_signed_in(dir, &created);
      origin = std::string(created ? "self-signed, new, " : "self-signed, ") + "kept in " + dir;
    }
    auto context = tls::Context::server(o);
    const std::string fp = tls::fingerprint_text(tls::fingerprint_of_pem(o.identity.cert_pem));
    events.emit("tls_certificate", {{"sha256", fp}, {"source", origin}},
                "TLS certificate (" + origin + ")");
    if (!args.has("json"))  // the fingerprint to pin, whatever -v says
      std::cerr << events.command() << ": TLS certificate SHA-256 " << fp << '\n';
    return context;
  } catch (const Error& e) {
    args.fail(std::string(args.has("cert") ? "--cert/--key: " : "") + e.what());
  }
}

void add_tls(apps::RelayOptions& options, const std::shared_ptr<tls::Context>& context,
             const std::string& server_name, const Events& events) {
  options.tls = std::make_shared<tls::Session>(context, server_name);
  if (!events.enabled()) return;
  options.on_tls_established = [&events](const tls::Session& s) {
    const std::string subject = s.peer_subject();
    events.emit("tls",
                {{"protocol", s.protocol()},
                 {"cipher", s.cipher()},
                 {"alpn", s.alpn()},
                 {"resumed", s.resumed()},
                 {"peer_subject", subject},
                 {"peer_sha256", s.peer_fingerprint()}},
                "TLS " + s.protocol() + " " + s.cipher() +
                    (subject.empty() ? std::string(", no peer certificate")
                                     : ", peer " + subject + " SHA-256 " + s.peer_fingerprint()));
  };
}

}  // namespace duplex::cli::netcat
