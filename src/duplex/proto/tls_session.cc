#include "duplex/proto/tls_session.h"

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <algorithm>

#include "duplex/base/error.h"

namespace duplex::tls {
namespace {

// The most one read() decrypts per call into a buffer with no room yet: one record.
constexpr std::size_t kRecord = 16 * 1024;

bool is_address(const std::string& name) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

int session_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string time_text(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, t);  // "Dec  5 03:33:06 2026 GMT", as openssl x509 -dates says
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string text = n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "?";
  BIO_free(bio);
  return text;
}

std::string subject_text(X509* cert) {
  char text[512];
  X509_NAME_oneline(X509_get_subject_name(cert), text, sizeof text);
  return text;
}

// The names a certificate is for: its subjectAltName DNS names and addresses, else its CN.
std::string names_of(X509* cert) {
  std::string names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    std::string name;
    if (g->type == GEN_DNS) {
      const ASN1_STRING* d = g->d.dNSName;
      name.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),
                  static_cast<std::size_t>(ASN1_STRING_length(d)));
    } else if (g->type == GEN_IPADD) {
      const ASN1_STRING* a = g->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      const int family = ASN1_STRING_length(a) == 4 ? AF_INET : AF_INET6;
      if (ASN1_STRING_length(a) == 4 || ASN1_STRING_length(a) == 16)
        ::inet_ntop(family, ASN1_STRING_get0_data(a), text, sizeof text);
      name = text;
    }
    if (!name.empty()) names += (names.empty() ? "" : ", ") + name;
  }
  GENERAL_NAMES_free(sans);
  if (!names.empty()) return names;
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
    return cn;
  return "no name";
}

// A certificate check that failed, as one line naming the certificate's own dates, names or
// issuer, and the fix. `server`: we verify a client's certificate (--client-ca).
std::string describe_verify_failure(int error, X509* cert, int depth, bool server,
                                    const std::string& server_name) {
  const std::string why = X509_verify_cert_error_string(error);
  std::string which = server ? "client certificate" : "certificate";
  if (depth > 0 && cert) which += "'s issuer " + subject_text(cert);
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return which + " has expired (notAfter " + time_text(X509_get0_notAfter(cert)) +
             "); renew it, or check the clock";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return which + " is not valid yet (notBefore " + time_text(X509_get0_notBefore(cert)) +
             "); check the clock";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "certificate is for " + names_of(cert) + ", not " + server_name +
             "; connect by a name it lists, or trust it with --pin SHA256";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      if (server)
        return "client certificate " + subject_text(cert) + " not trusted (" + why +
               "): no CA in --client-ca issued it";
      return "certificate not trusted (" + why +
             "); trust it with --ca FILE or --pin SHA256 (or --insecure to skip the check)";
    default:
      return which + " verify failed: " + why;
  }
}

// The error of a failed handshake as one line with the fix.
std::string describe_failure(unsigned long e, long verify_result, bool server) {
  const int reason = ERR_GET_REASON(e);
  // verify_peer() names the certificate's failure; this is for a check it did not see.
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && verify_result != X509_V_OK)
    return std::string("certificate verify failed: ") +
           X509_verify_cert_error_string(verify_result);
  if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
    return "the client sent no certificate; --client-ca requires one (its --cert and --key)";
  if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
    return "the server requires a client certificate; give --cert FILE --key FILE";
  if (!server &&
      (reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
       reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED))
    return std::string("the server refused our client certificate (") + ERR_reason_error_string(e) +
           "); give one that a CA it trusts issued";
  if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST)
    return "the peer sent plain HTTP to a TLS port; use https:// (or drop --tls on the server)";
  if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
      reason == SSL_R_UNEXPECTED_RECORD || reason == SSL_R_UNKNOWN_PROTOCOL)
    return std::string("the peer does not speak TLS (") + ERR_reason_error_string(e) + "); " +
           (server ? "it sent plain text to a TLS port" : "is the server's port plain TCP?") +
           " (use --tls on both sides or on neither)";
  if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)
    return "the peer offers only TLS versions below 1.2, which duplex refuses";
  if (reason == SSL_R_NO_SHARED_CIPHER)
    return "no cipher in common with the peer (in TLS 1.2 duplex offers only ECDHE with AES-GCM or "
           "CHACHA20-POLY1305)";
  const char* text = ERR_reason_error_string(e);
  return std::string("TLS handshake failed: ") + (text ? text : "unknown error");
}

}  // namespace

// Every verifying session's check, certificate by certificate: with a pin, the server's
// certificate (depth 0) is trusted exactly when its SHA-256 matches, whatever the chain says
// (a pin is for self-signed servers). Otherwise OpenSSL's verdict stands, and the first
// failure is kept as the line error() gives, naming the certificate's own dates or names.
int verify_peer(int ok, X509_STORE_CTX* store) {
  SSL* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = static_cast<Session*>(SSL_get_ex_data(ssl, session_index()));
  if (!self) return ok;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  const int depth = X509_STORE_CTX_get_error_depth(store);
  if (self->context_->pin()) {
    if (depth != 0) return 1;
    Fingerprint f{};
    unsigned int len = 0;
    X509_digest(cert, EVP_sha256(), f.data(), &len);
    if (f == *self->context_->pin()) {
      X509_STORE_CTX_set_error(store, X509_V_OK);
      return 1;
    }
    self->verify_error_ = "certificate does not match --pin: the server's SHA-256 is " +
                          fingerprint_text(f) + "; check the pin (or the server)";
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  if (!ok && self->verify_error_.empty())
    self->verify_error_ = describe_verify_failure(X509_STORE_CTX_get_error(store), cert, depth,
                                                  self->context_->is_server(), self->server_name_);
  return ok;
}

Session::Session(std::shared_ptr<const Context> context, std::string_view server_name)
    : context_(std::move(context)), server_name_(server_name) {
  ssl_ = SSL_new(context_->native());
  if (!ssl_) throw Error("cannot create a TLS session: " + openssl_error());
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  // An empty memory BIO reports "retry" (WANT_READ), not end of file.
  BIO_ctrl(rbio_, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nullptr);
  BIO_ctrl(wbio_, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nullptr);
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_ex_data(ssl_, session_index(), this);
  if (context_->is_server()) {
    SSL_set_accept_state(ssl_);
    if (SSL_get_verify_mode(ssl_) != SSL_VERIFY_NONE)  // --client-ca
      SSL_set_verify(ssl_, SSL_get_verify_mode(ssl_), verify_peer);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (!server_name_.empty() && !is_address(server_name_))
    SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(server_name_.c_str()));
  if (context_->insecure()) {
    SSL_set_verify(ssl_, SSL_VERIFY_NONE, nullptr);
  } else if (context_->pin()) {
    SSL_set_verify(ssl_, SSL_VERIFY_PEER, verify_peer);
  } else {
    SSL_set_verify(ssl_, SSL_VERIFY_PEER, verify_peer);
    if (!server_name_.empty()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      if (is_address(server_name_)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, server_name_.c_str());
      } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        SSL_set1_host(ssl_, server_name_.c_str());
      }
    }
  }
}

Session::~Session() { SSL_free(ssl_); }

void Session::start() {
  if (!context_->is_server()) advance();
}

std::size_t Session::pending_ciphertext() const noexcept { return BIO_ctrl_pending(rbio_); }

void Session::drain_output() {
  const std::size_t pending = BIO_ctrl_pending(wbio_);
  if (pending == 0) return;
  output_.ensure_writable(pending);
  const int n = BIO_read(wbio_, output_.begin_write(), static_cast<int>(pending));
  if (n > 0) output_.has_written(static_cast<std::size_t>(n));
}

Session::Status Session::fail_with(int ssl_error, int ret) {
  failed_ = true;
  const unsigned long e = ERR_peek_error();
  if (!verify_error_.empty()) {
    error_ = verify_error_;
  } else if (ssl_error == SSL_ERROR_SSL && e != 0) {
    plain_http_ = ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST;
    error_ = describe_failure(e, SSL_get_verify_result(ssl_), context_->is_server());
  } else {
    error_ = "TLS failed (OpenSSL error " + std::to_string(ssl_error) + ", return " +
             std::to_string(ret) + ")";
  }
  ERR_clear_error();
  drain_output();  // the alert, for the peer
  return Status::kFailed;
}

Session::Status Session::advance() {
  if (failed_) return Status::kFailed;
  if (open_) return Status::kOk;
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    open_ = true;
  } else {
    const int err = SSL_get_error(ssl_, ret);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return fail_with(err, ret);
  }
  drain_output();
  return Status::kOk;
}

Session::Status Session::feed(const char* data, std::size_t len) {
  if (failed_) return Status::kFailed;
  if (len > 0) BIO_write(rbio_, data, static_cast<int>(len));
  return advance();
}

Session::Status Session::read(Buffer& out, std::size_t limit) {
  if (failed_) return Status::kFailed;
  if (!open_) {
    if (advance() == Status::kFailed) return Status::kFailed;
    if (!open_) return Status::kOk;
  }
  // Room for everything fed, once: plaintext is never longer than its records (and one more
  // record may wait inside OpenSSL). Growing a record at a time instead doubled the buffer
  // past what the caller keeps between reads, so it was freed and faulted in again each time.
  if (out.readable_bytes() < limit)
    out.ensure_writable(std::min(limit - out.readable_bytes(), pending_ciphertext() + kRecord));
  while (!peer_closed_ && out.readable_bytes() < limit) {
    ERR_clear_error();
    if (out.writable_bytes() == 0) out.ensure_writable(kRecord);  // SSL_read takes part of one
    const std::size_t room = std::min(out.writable_bytes(), limit - out.readable_bytes());
    std::size_t got = 0;
    const int ret = SSL_read_ex(ssl_, out.begin_write(), room, &got);
    if (ret == 1) {
      out.has_written(got);
      continue;
    }
    const int err = SSL_get_error(ssl_, ret);
    drain_output();  // a key update or a session ticket answer
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
    if (err == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      break;
    }
    return fail_with(err, ret);
  }
  drain_output();
  return peer_closed_ ? Status::kClosed : Status::kOk;
}

Session::Status Session::write(const char* data, std::size_t len) {
  if (failed_) return Status::kFailed;
  if (!open_ || closed_) return Status::kOk;
  while (len > 0) {
    ERR_clear_error();
    std::size_t written = 0;
    const int ret = SSL_write_ex(ssl_, data, len, &written);
    if (ret != 1) return fail_with(SSL_get_error(ssl_, ret), ret);
    data += written;
    len -= written;
  }
  drain_output();
  return Status::kOk;
}

void Session::close() {
  if (closed_ || failed_) return;
  closed_ = true;
  if (!open_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // queues close_notify; we do not wait for the peer's here
  ERR_clear_error();
  drain_output();
}

std::string Session::protocol() const { return SSL_get_version(ssl_); }

std::string Session::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_);
  return name ? name : "";
}

std::string Session::peer_subject() const {
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (!cert) return "";
  char text[512];
  X509_NAME_oneline(X509_get_subject_name(cert), text, sizeof text);
  return text;
}

std::string Session::peer_fingerprint() const {
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (!cert) return "";
  Fingerprint f{};
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), f.data(), &len);
  return fingerprint_text(f);
}

std::string Session::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

bool Session::resumed() const { return SSL_session_reused(ssl_) == 1; }

}  // namespace duplex::tls
