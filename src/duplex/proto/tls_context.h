// Public. The configuration that every TLS session of one side shares (OpenSSL's SSL_CTX),
// and the certificates it presents or trusts.
//
// Policy, the same for every command: TLS 1.2 and 1.3 only; in TLS 1.2 only ECDHE with an
// AEAD cipher (AES-GCM, CHACHA20-POLY1305: no CBC, no RSA key exchange), in TLS 1.3
// OpenSSL's default suites (all AEAD); no compression, renegotiation off, session tickets
// and the server's session cache on (resumption, TLS 1.2 and 1.3). A server answers ALPN
// with http/1.1 when the client offers it and says nothing otherwise.
//
// A client verifies the server against the system CAs (or --ca FILE) and its host name or
// address; `pin` trusts exactly one certificate by the SHA-256 of its DER bytes, whatever
// signed it; `insecure` checks nothing. A client may present a certificate (`identity`);
// a server with `client_ca_file` requires one and verifies it. Construction throws duplex::Error
// with one line naming the file or setting at fault. A Context may be shared by sessions on any
// thread once built (OpenSSL's SSL_CTX is thread-safe for that).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using SSL_CTX = struct ssl_ctx_st;

namespace duplex::tls {

using Fingerprint = std::array<std::uint8_t, 32>;  // SHA-256 of a certificate's DER bytes

// "AB:CD:..." (upper case, colons), as `openssl x509 -fingerprint -sha256` prints it.
std::string fingerprint_text(const Fingerprint& f);
// Accepts 64 hex digits with or without colons, either case; nullopt otherwise.
std::optional<Fingerprint> parse_fingerprint(std::string_view text);
// The fingerprint of the first certificate in PEM text; throws Error if there is none.
Fingerprint fingerprint_of_pem(std::string_view pem);

struct CertificateKey {
  std::string cert_pem;
  std::string key_pem;
};

// A fresh self-signed ECDSA P-256 certificate (SHA-256 signature, valid from an hour ago
// for ten years, serverAuth), its subject CN the first name, every name and address in
// its subjectAltName.
CertificateKey generate_self_signed(const std::vector<std::string>& dns_names,
                                    const std::vector<std::string>& ip_addresses);
// This host's names ("localhost" and the host name) and addresses (loopback and every
// interface's), for generate_self_signed.
void local_names(std::vector<std::string>& dns_names, std::vector<std::string>& ip_addresses);
// The certificate kept in `dir` (cert.pem and key.pem, mode 0600, in a 0700 folder),
// generated for this host on first use, so that its fingerprint stays the same from run to
// run. `created` tells whether this call made it.
CertificateKey self_signed_in(const std::string& dir, bool* created = nullptr);
// $XDG_DATA_HOME/duplex/tls, else ~/.local/share/duplex/tls; throws if neither is set.
std::string default_certificate_dir();

struct ServerOptions {
  CertificateKey identity;  // PEM: the certificate chain and its key
  bool alpn_http11 = true;  // select http/1.1 when the client offers it
  // Not empty: every client must present a certificate that a CA in this PEM file signed
  // (--client-ca); the handshake fails without one.
  std::string client_ca_file;
};

struct ClientOptions {
  std::string ca_file;             // "": the system CAs
  std::optional<Fingerprint> pin;  // trust exactly this certificate
  bool insecure = false;           // verify nothing (say so loudly)
  std::vector<std::string> alpn;   // offered, e.g. {"http/1.1"}; none by default
  CertificateKey identity;         // a client certificate for a server that asks; "": none
};

class Context {
 public:
  static std::shared_ptr<Context> server(const ServerOptions& options);
  static std::shared_ptr<Context> client(const ClientOptions& options);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  SSL_CTX* native() const noexcept { return ctx_; }
  bool is_server() const noexcept { return server_; }
  const std::optional<Fingerprint>& pin() const noexcept { return pin_; }
  bool insecure() const noexcept { return insecure_; }

 private:
  Context(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {}
  SSL_CTX* ctx_;
  bool server_;
  std::optional<Fingerprint> pin_;
  bool insecure_ = false;
};

// The first error on OpenSSL's queue of this thread as text, the queue emptied.
std::string openssl_error();

}  // namespace duplex::tls
