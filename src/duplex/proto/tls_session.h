// Public. The TLS stage: one TLS connection as a sans-IO state machine over OpenSSL memory
// BIOs. It never touches a socket, so the same session runs under a StreamRelay, a
// TcpConnection or a test's byte strings:
//
//   session.start();                           // a client's ClientHello goes to output()
//   session.feed(bytes, n);                    // ciphertext the transport read
//   session.read(plain, limit);                // decrypted bytes, up to `limit` held
//   session.write(data, n);                    // once open(): records into output()
//   transport.send(session.output());          // and take them out of it
//   session.close();                           // close_notify: our write side is done
//
// Back-pressure: the session holds no plaintext of its own. read() decrypts into the
// caller's buffer until it holds `limit` bytes; records not yet decrypted stay as
// ciphertext, at most what the caller fed since: a transport that stops reading the socket
// while its buffer is full keeps the whole pipeline bounded. output() grows only by what the
// caller writes, so it stops writing while output() is above its mark.
//
// Half-close: close() queues close_notify (TLS 1.3 lets the peer go on sending; read()
// still works). The peer's close_notify makes read() return kClosed. A TCP FIN without
// close_notify is the transport's to report (truncated()).
//
// Not thread-safe: a session belongs to its connection's loop.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "duplex/proto/tls_context.h"
#include "duplex/reactor/buffer.h"

using SSL = struct ssl_st;
using BIO = struct bio_st;
using X509_STORE_CTX = struct x509_store_ctx_st;

namespace duplex::tls {

class Session {
 public:
  enum class Status { kOk, kClosed, kFailed };

  // A client passes the server's name (for SNI and the certificate check: a host name, or
  // an address, which is checked but not sent as SNI).
  explicit Session(std::shared_ptr<const Context> context, std::string_view server_name = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Begins the handshake (a client's first flight goes to output()).
  void start();
  // Ciphertext from the peer; drives the handshake. kFailed: error() says why, and
  // output() may hold an alert for the peer.
  Status feed(const char* data, std::size_t len);
  // Decrypts into `out` while it holds fewer than `limit` bytes. kClosed once the peer's
  // close_notify has been read (everything before it is in `out`).
  Status read(Buffer& out, std::size_t limit);
  // Encrypts `len` bytes into output(). Only when open() and not closed by us.
  Status write(const char* data, std::size_t len);
  // Queues close_notify (once).
  void close();

  Buffer& output() noexcept { return output_; }
  bool open() const noexcept { return open_; }  // the handshake is done
  bool failed() const noexcept { return failed_; }
  bool peer_closed() const noexcept { return peer_closed_; }
  bool closed() const noexcept { return closed_; }  // we sent close_notify
  // The handshake failed because the peer sent a plain HTTP request (a server's view).
  bool plain_http() const noexcept { return plain_http_; }
  // Ciphertext fed but not yet decrypted (bounded by what the caller fed).
  std::size_t pending_ciphertext() const noexcept;
  // One line: why the session failed, naming the cause and the fix.
  const std::string& error() const noexcept { return error_; }

  // After the handshake: "TLSv1.3", "TLS_AES_256_GCM_SHA384", the peer certificate's
  // subject ("" if none), its fingerprint text ("" if none), the ALPN protocol ("" if none),
  // and whether the session was resumed.
  std::string protocol() const;
  std::string cipher() const;
  std::string peer_subject() const;
  std::string peer_fingerprint() const;
  std::string alpn() const;
  bool resumed() const;

 private:
  Status advance();
  Status fail_with(int ssl_error, int ret);
  void drain_output();
  friend int verify_peer(int ok, X509_STORE_CTX* store);

  std::shared_ptr<const Context> context_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // ciphertext in (owned by ssl_)
  BIO* wbio_ = nullptr;  // ciphertext out (owned by ssl_)
  Buffer output_;
  std::string server_name_;
  std::string error_;
  std::string verify_error_;  // the first certificate check that failed, as one line
  bool open_ = false;
  bool failed_ = false;
  bool peer_closed_ = false;
  bool closed_ = false;
  bool plain_http_ = false;
};

}  // namespace duplex::tls
