#include "tls_flags.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "duplex/base/error.h"

namespace duplex::cli {
namespace {

std::string read_pem(const Args& args, const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) args.fail(flag + " " + path + ": cannot read the file; check the path");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::shared_ptr<tls::Context> client_tls_context(const Args& args, const std::string& command) {
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
  if (auto cert = args.value("cert")) {  // a client certificate, for a server that asks
    o.identity.cert_pem = read_pem(args, "--cert", *cert);
    o.identity.key_pem = read_pem(args, "--key", *args.value("key"));
  }
  if (o.insecure)
    std::cerr << command
              << ": --insecure: the server's certificate and name are NOT checked; anyone on "
                 "the path can read and change this connection\n";
  try {
    return tls::Context::client(o);
  } catch (const Error& e) {
    args.fail(std::string(args.has("cert") ? "--cert/--key: " : "") + e.what());
  }
}

ServerTls server_tls_context(const Args& args) {
  tls::ServerOptions o;
  ServerTls out;
  try {
    if (auto cert = args.value("cert")) {
      o.identity.cert_pem = read_pem(args, "--cert", *cert);
      o.identity.key_pem = read_pem(args, "--key", *args.value("key"));
      out.origin = *cert;
    } else {
      const std::string dir = tls::default_certificate_dir();
      bool created = false;
      o.identity = tls::self_signed_in(dir, &created);
      out.origin = std::string(created ? "self-signed, new, " : "self-signed, ") + "kept in " + dir;
    }
    o.client_ca_file = args.value("client-ca").value_or("");
    out.context = tls::Context::server(o);
    out.fingerprint = tls::fingerprint_text(tls::fingerprint_of_pem(o.identity.cert_pem));
    return out;
  } catch (const Error& e) {
    const std::string what = e.what();
    args.fail((args.has("cert") && what.rfind("--", 0) != 0 ? "--cert/--key: " : "") + what);
  }
}

}  // namespace duplex::cli
