// Public. A byte-stream stage between a TcpConnection's socket and its users (TLS being the
// one we have: proto/tls_filter.h). The connection reads the socket into the filter, hands
// the plaintext it yields to the message callback, and passes everything its users send
// through the filter before it reaches the socket; its users never see the difference.
//
// Contract (the connection calls these in its loop thread; the filter does no I/O):
//   start()          once, when the connection comes up: a client's first flight goes to
//                    wire()
//   input()          ciphertext the socket gave; appends the plaintext it decrypts to
//                    `plain` (whatever it can: the connection bounds the ciphertext by
//                    reading once per wake-up); handshake answers, alerts and tickets go to
//                    wire(). kClosed: the peer ended its stream (TLS close_notify).
//   output()         plaintext to send, only once established(); records go to wire()
//   close()          our side is done (close_notify) into wire(); the connection then sends
//                    FIN
//   wire()           bytes for the socket; the connection empties it after each call (after
//                    input(), once the message callback has sent its answer through
//                    output(), so tickets and the first reply share a segment)
//   kFailed          error() holds one line saying why (and wire() perhaps an alert)
#pragma once

#include <cstddef>
#include <string>

namespace duplex {

class Buffer;

class StreamFilter {
 public:
  enum class Result { kOk, kClosed, kFailed };

  virtual ~StreamFilter() = default;
  virtual void start() = 0;
  virtual Result input(const char* data, std::size_t len, Buffer& plain) = 0;
  virtual Result output(const char* data, std::size_t len) = 0;
  virtual void close() = 0;
  virtual Buffer& wire() = 0;
  // The handshake is done: output() now encrypts.
  virtual bool established() const = 0;
  virtual const std::string& error() const = 0;
  // One line for logs once established, e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384".
  virtual std::string describe() const = 0;
};

}  // namespace duplex
