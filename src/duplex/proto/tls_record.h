// Public. TLS as `duplex capture` sees it in one TCP segment, without heap allocation (the
// convention of base/dissect.h): the records (RFC 8446 5.1, content type, version, length)
// and, in depth, the first ClientHello or ServerHello:
//
//   record: type(8) version(16) length(16) fragment
//   handshake: type(8) length(24) body
//   hello: version(16) random(32 bytes) session_id<0..32> cipher_suites<2..2^16-2> (server:
//          one suite) compression_methods<1..2^8-1> (server: one) extensions<0..2^16-1>
//
// Extensions read: server_name (SNI), application_layer_protocol_negotiation (ALPN),
// supported_versions, key_share, supported_groups; the others are listed by type. Every
// length is checked against the one that holds it (a list against its extension, an
// extension against the extensions, those against the handshake message, the message
// against its record): past it is malformed; past the segment, the record `continues` (or is
// truncated, when the snaplen cut it). A segment that does not start with a record header is
// the rest of an earlier record (`continuation`).
// All functions are safe to call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "duplex/base/dissect.h"

namespace duplex::tls {

enum : std::uint8_t {
  kChangeCipherSpec = 20,
  kAlert = 21,
  kHandshake = 22,
  kApplicationData = 23,
  kHeartbeat = 24,
};
enum : std::uint8_t { kClientHello = 1, kServerHello = 2 };

struct TlsRecord {
  static constexpr std::uint32_t kHeaderLength = 5;
  std::uint32_t at = 0;  // the record header, from the segment's first byte
  std::uint8_t content_type = 0;
  std::uint16_t version = 0;
  std::uint16_t length = 0;
};

// Where a piece of the hello is in the segment.
struct Piece {
  std::uint32_t at = 0;
  std::uint32_t length = 0;
};

struct TlsHello {
  std::uint8_t type = 0;        // kClientHello, kServerHello; 0 when the segment has none
  std::uint32_t at = 0;         // the handshake header
  std::uint32_t length = 0;     // the handshake message's body
  bool complete = false;        // all of it was read
  std::uint16_t version = 0;    // legacy_version
  std::uint32_t random_at = 0;  // 32 bytes
  Piece session_id;
  Piece cipher_suites;             // ClientHello: 2 bytes each
  std::uint16_t cipher_suite = 0;  // ServerHello
  Piece compression_methods;
  Piece extensions;  // all of them, after their 2-byte length
  std::uint16_t extension_count = 0;
  Piece server_name;                   // SNI host_name
  Piece alpn;                          // the protocol name list (1-byte lengths)
  Piece supported_versions;            // ClientHello: the list, 2 bytes each
  std::uint16_t selected_version = 0;  // ServerHello's supported_versions
  Piece key_shares;                    // ClientHello: group(16) length(16) key, each
  std::uint16_t key_share_group = 0;   // ServerHello
  Piece supported_groups;              // 2 bytes each

  std::uint16_t cipher_suite_count() const noexcept {
    return static_cast<std::uint16_t>(cipher_suites.length / 2);
  }
};

struct TlsMessage {
  static constexpr std::size_t kMaxRecords = 16;
  std::array<TlsRecord, kMaxRecords> records{};
  std::uint8_t record_count = 0;   // kept in `records`
  std::uint16_t records_seen = 0;  // in the segment, past kMaxRecords too
  TlsHello hello;
  bool continuation = false;  // the segment starts inside a record
  bool continues = false;     // the last record goes on past the segment
  dissect::Problem problem;
};

// `bytes` is the TCP payload as captured, `length` its length on the wire (0: all captured).
TlsMessage decode_tls(std::span<const std::uint8_t> bytes, std::uint32_t length = 0) noexcept;

// Whether `bytes` starts with a TLS record header: a content type 20 to 24 and version 3.x;
// for the chain, which names a TCP payload TLS by port or by this.
bool looks_like_tls(std::span<const std::uint8_t> bytes) noexcept;

// "TLS" with a tls.record per record (tls.record.content_type, .version, .length), and for
// handshake records tls.handshake (tls.handshake.type, .length); for the hello
// tls.handshake.version, .random, .session_id_length, .session_id, .cipher_suites_length,
// a tls.handshake.ciphersuite each, .comp_methods_length, .extensions_length and a
// tls.handshake.extension each (tls.handshake.extension.type, .len and
// tls.handshake.extensions_server_name, tls.handshake.extensions_alpn_str,
// tls.handshake.extensions.supported_version, tls.handshake.extensions_key_share_group,
// tls.handshake.extensions_supported_group).
void describe(const TlsMessage& m, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As tshark's Info column, one name a record: "Client Hello (SNI=example.com)",
// "Server Hello, Change Cipher Spec, Application Data", "Continuation Data".
std::string summary(const TlsMessage& m, std::span<const std::uint8_t> bytes);

// "TLS 1.2", "SSL 3.0"...; "" when unknown.
std::string_view version_name(std::uint16_t version) noexcept;
// "TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"...: IANA's name of a
// common suite, "Reserved (GREASE)"; "" for the others.
std::string_view cipher_suite_name(std::uint16_t suite) noexcept;
// "x25519", "secp256r1", "X25519MLKEM768"...; "" when unknown.
std::string_view group_name(std::uint16_t group) noexcept;
// "Client Hello", "Certificate"...; "" when unknown.
std::string_view handshake_type_name(std::uint8_t type) noexcept;
// "server_name", "key_share"...; "" when unknown.
std::string_view extension_name(std::uint16_t type) noexcept;

}  // namespace duplex::tls
