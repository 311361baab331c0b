#include "duplex/proto/tls_context.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "duplex/base/error.h"

namespace duplex::tls {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

void add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
  if (!ext) throw Error("cannot build a certificate extension: " + openssl_error());
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_private(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw Error("cannot write " + path + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) throw Error("cannot write " + path + ": " + std::strerror(errno));
}

void make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    throw Error("cannot create " + path + ": " + std::strerror(errno));
}

// ALPN: http/1.1 when the client offers it; otherwise no ALPN in the answer.
int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                  unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

constexpr const char* kTls12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!PSK";

SSL_CTX* new_context(bool server) {
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!ctx) throw Error("cannot create a TLS context: " + openssl_error());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.2: forward secrecy and AEAD only (no CBC, no static RSA or DH key exchange). TLS
  // 1.3's suites are all AEAD and stay OpenSSL's default.
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    SSL_CTX_free(ctx);
    throw Error("cannot set the TLS 1.2 cipher suites: " + openssl_error());
  }
  // Records are written from our own buffers, which may move between calls; idle sessions
  // give their read and write buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

}  // namespace

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown TLS error";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  // "error:0A000086:SSL routines::certificate verify failed" -> the reason alone.
  const char* reason = ERR_reason_error_string(e);
  return reason ? reason : text;
}

std::string fingerprint_text(const Fingerprint& f) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string s;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (i) s += ':';
    s += kHex[f[i] >> 4];
    s += kHex[f[i] & 15];
  }
  return s;
}

std::optional<Fingerprint> parse_fingerprint(std::string_view text) {
  Fingerprint f{};
  std::size_t n = 0;
  int high = -1;
  for (char c : text) {
    if (c == ':') continue;
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0 || n >= f.size()) return std::nullopt;
    if (high < 0) {
      high = v;
    } else {
      f[n++] = static_cast<std::uint8_t>(high << 4 | v);
      high = -1;
    }
  }
  if (n != f.size() || high >= 0) return std::nullopt;
  return f;
}

Fingerprint fingerprint_of_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw Error("no PEM certificate found: " + openssl_error());
  Fingerprint f{};
  unsigned int len = 0;
  X509_digest(cert.get(), EVP_sha256(), f.data(), &len);
  return f;
}

CertificateKey generate_self_signed(const std::vector<std::string>& dns_names,
                                    const std::vector<std::string>& ip_addresses) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw Error("cannot generate an ECDSA P-256 key: " + openssl_error());
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  const std::string cn = dns_names.empty() ? "duplex" : dns_names.front();
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("duplex"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& d : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& a : ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + a;
  if (!san.empty()) add_extension(cert.get(), NID_subject_alt_name, san);
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    throw Error("cannot sign the certificate: " + openssl_error());
  CertificateKey out;
  BioPtr cb(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cb.get(), cert.get());
  out.cert_pem = bio_text(cb.get());
  BioPtr kb(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_text(kb.get());
  return out;
}

void local_names(std::vector<std::string>& dns_names, std::vector<std::string>& ip_addresses) {
  dns_names.push_back("localhost");
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && *host && std::string_view(host) != "localhost")
    dns_names.emplace_back(host);
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr) continue;
      char text[INET6_ADDRSTRLEN] = {};
      if (i->ifa_addr->sa_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text,
                    sizeof text);
      } else if (i->ifa_addr->sa_family == AF_INET6) {
        const auto* a6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
        if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) continue;  // no zone in a certificate
        ::inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof text);
      } else {
        continue;
      }
      bool seen = false;
      for (const auto& a : ip_addresses) seen = seen || a == text;
      if (!seen) ip_addresses.emplace_back(text);
    }
    ::freeifaddrs(list);
  }
  for (const char* loop : {"127.0.0.1", "::1"}) {
    bool seen = false;
    for (const auto& a : ip_addresses) seen = seen || a == loop;
    if (!seen) ip_addresses.emplace_back(loop);
  }
}

std::string default_certificate_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg == '/')
    return std::string(xdg) + "/duplex/tls";
  if (const char* home = std::getenv("HOME"); home && *home == '/')
    return std::string(home) + "/.local/share/duplex/tls";
  throw Error(
      "no place for the TLS certificate: neither XDG_DATA_HOME nor HOME is set; give --cert "
      "FILE --key FILE");
}

CertificateKey self_signed_in(const std::string& dir, bool* created) {
  const std::string cert_path = dir + "/cert.pem";
  const std::string key_path = dir + "/key.pem";
  if (created) *created = false;
  if (::access(cert_path.c_str(), R_OK) == 0 && ::access(key_path.c_str(), R_OK) == 0)
    return {read_file(cert_path), read_file(key_path)};
  // The parents as `mkdir -p` would; the last one private.
  for (std::size_t slash = dir.find('/', 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1))
    make_dir(dir.substr(0, slash), 0755);
  make_dir(dir, 0700);
  std::vector<std::string> names, addresses;
  local_names(names, addresses);
  CertificateKey made = generate_self_signed(names, addresses);
  write_private(key_path, made.key_pem);
  write_private(cert_path, made.cert_pem);
  if (created) *created = true;
  return made;
}

Context::~Context() { SSL_CTX_free(ctx_); }

namespace {

// The certificate (and the chain after it in the PEM text) and its key that `ctx` presents.
void use_identity(SSL_CTX* ctx, const CertificateKey& identity) {
  BioPtr cb(BIO_new_mem_buf(identity.cert_pem.data(), static_cast<int>(identity.cert_pem.size())));
  X509Ptr leaf(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1)
    throw Error("the certificate is not a PEM certificate: " + openssl_error());
  // The rest of the file is the chain, sent after the leaf.
  while (X509* extra = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr))
    SSL_CTX_add0_chain_cert(ctx, extra);
  ERR_clear_error();  // the end of the PEM text
  BioPtr kb(BIO_new_mem_buf(identity.key_pem.data(), static_cast<int>(identity.key_pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  if (!key) throw Error("the key is not a PEM private key (or is encrypted): " + openssl_error());
  if (X509_check_private_key(leaf.get(), key.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    throw Error("the key does not belong to the certificate; give the key made with it");
  }
}

}  // namespace

std::shared_ptr<Context> Context::server(const ServerOptions& options) {
  std::shared_ptr<Context> c(new Context(new_context(true), true));
  SSL_CTX* ctx = c->ctx_;
  use_identity(ctx, options.identity);
  if (!options.client_ca_file.empty()) {
    const char* file = options.client_ca_file.c_str();
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(file);
    if (!names || SSL_CTX_load_verify_locations(ctx, file, nullptr) != 1) {
      if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
      throw Error("--client-ca " + options.client_ca_file +
                  ": not a readable PEM file of CA certificates (" + openssl_error() + ")");
    }
    SSL_CTX_set_client_CA_list(ctx, names);  // the CAs named in the CertificateRequest
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  if (options.alpn_http11) SSL_CTX_set_alpn_select_cb(ctx, select_http11, nullptr);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  static const unsigned char kId[] = "duplex";
  SSL_CTX_set_session_id_context(ctx, kId, sizeof kId - 1);
  return c;
}

std::shared_ptr<Context> Context::client(const ClientOptions& options) {
  std::shared_ptr<Context> c(new Context(new_context(false), false));
  SSL_CTX* ctx = c->ctx_;
  c->pin_ = options.pin;
  c->insecure_ = options.insecure;
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1)
      throw Error("--ca " + options.ca_file + ": not a readable PEM file of certificates (" +
                  openssl_error() + ")");
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    throw Error("cannot load the system CA certificates: " + openssl_error() +
                "; install ca-certificates or give --ca FILE");
  }
  if (!options.alpn.empty()) {
    std::string wire;
    for (const auto& p : options.alpn) {
      wire += static_cast<char>(p.size());
      wire += p;
    }
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()));
  }
  if (!options.identity.cert_pem.empty()) use_identity(ctx, options.identity);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
  return c;
}

}  // namespace duplex::tls
