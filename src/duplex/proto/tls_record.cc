#include "duplex/proto/tls_record.h"

#include <algorithm>

#include "duplex/base/wire.h"

namespace duplex::tls {
namespace {

using dissect::Problem;
using wire::be16;

// A plaintext record holds at most 2^14 bytes, a protected one 2^14 + 2048 (TLS 1.2).
constexpr std::uint32_t kMaxRecordLength = 16384 + 2048;

enum : std::uint16_t {
  kServerName = 0,
  kSupportedGroups = 10,
  kAlpn = 16,
  kSupportedVersions = 43,
  kKeyShare = 51,
};

std::uint32_t be24(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
}

bool is_record_header(std::span<const std::uint8_t> b) noexcept {
  return b.size() >= 3 && b[0] >= kChangeCipherSpec && b[0] <= kHeartbeat && b[1] == 3 && b[2] <= 4;
}

// Reads a hello within the bytes at hand: every read is checked first against the length
// that holds it (past it: malformed) and then against the segment (past it: cut).
class HelloReader {
 public:
  HelloReader(std::span<const std::uint8_t> bytes, TlsMessage& m, bool cut_by_capture)
      : b_(bytes), m_(m), cut_by_capture_(cut_by_capture) {}

  // False when the read stops here: `problem` or `continues` says why.
  bool need(std::uint32_t at, std::uint32_t n, std::uint32_t limit, const char* past) noexcept {
    if (std::uint64_t{at} + n > limit) {
      m_.problem = {Problem::Kind::malformed, past, at};
      return false;
    }
    if (std::uint64_t{at} + n > b_.size()) {
      if (cut_by_capture_)
        m_.problem = {Problem::Kind::truncated, "the hello was cut by the capture",
                      static_cast<std::uint32_t>(b_.size())};
      else
        m_.continues = true;
      return false;
    }
    return true;
  }
  // A list of `unit`-byte items with a `width`-byte length at `at`, within `limit`.
  bool list(std::uint32_t at, std::uint32_t width, std::uint32_t unit, std::uint32_t limit,
            Piece& out, const char* past) noexcept {
    if (!need(at, width, limit, past)) return false;
    const std::uint32_t n = width == 1 ? b_[at] : be16(&b_[at]);
    if (n % unit != 0) {
      m_.problem = {Problem::Kind::malformed, "a list's length is not a whole number of items", at};
      return false;
    }
    if (!need(at + width, n, limit, past)) return false;
    out = {at + width, n};
    return true;
  }
  // Items of a list that each carry their own length (`width` bytes, after `skip` bytes).
  bool entries(const Piece& list, std::uint32_t skip, std::uint32_t width,
               const char* past) noexcept {
    const std::uint32_t end = list.at + list.length;
    for (std::uint32_t at = list.at; at < end;) {
      if (!need(at, skip + width, end, past)) return false;
      const std::uint32_t n = width == 1 ? b_[at + skip] : be16(&b_[at + skip]);
      if (!need(at + skip + width, n, end, past)) return false;
      at += skip + width + n;
    }
    return true;
  }

  bool extension(TlsHello& h, std::uint16_t type, std::uint32_t at, std::uint32_t end) noexcept {
    const bool client = h.type == kClientHello;
    switch (type) {
      case kServerName: {
        if (!client || at == end) return true;  // a server's is empty
        Piece names;
        if (!list(at, 2, 1, end, names, "the server name list runs past its extension"))
          return false;
        if (!entries(names, 1, 2, "a server name runs past its list")) return false;
        for (std::uint32_t p = names.at; p < names.at + names.length; p += 3u + be16(&b_[p + 1]))
          if (b_[p] == 0 && h.server_name.length == 0) h.server_name = {p + 3, be16(&b_[p + 1])};
        return true;
      }
      case kAlpn: {
        // Kept only once every name in it is checked: describe() walks it.
        Piece names;
        if (!list(at, 2, 1, end, names, "the ALPN list runs past its extension") ||
            !entries(names, 0, 1, "a protocol name runs past the ALPN list"))
          return false;
        h.alpn = names;
        return true;
      }
      case kSupportedVersions:
        if (client)
          return list(at, 1, 2, end, h.supported_versions,
                      "the supported versions run past their extension");
        if (!need(at, 2, end, "the selected version runs past its extension")) return false;
        h.selected_version = be16(&b_[at]);
        return true;
      case kKeyShare:
        if (client) {
          Piece shares;
          if (!list(at, 2, 1, end, shares, "the key shares run past their extension") ||
              !entries(shares, 2, 2, "a key share runs past its list"))
            return false;
          h.key_shares = shares;
          return true;
        }
        if (!need(at, 2, end, "the key share group runs past its extension")) return false;
        h.key_share_group = be16(&b_[at]);
        return true;
      case kSupportedGroups:
        return list(at, 2, 2, end, h.supported_groups,
                    "the supported groups run past their extension");
    }
    return true;
  }

  // The hello whose handshake header is at `at`, within its record ending at `record_end`.
  void read(std::uint32_t at, std::uint32_t record_end) noexcept {
    TlsHello& h = m_.hello;
    h.type = b_[at];
    h.at = at;
    if (!need(at + 1, 3, record_end, "the handshake header runs past its record")) return;
    h.length = be24(&b_[at + 1]);
    const std::uint32_t end = at + 4 + h.length;
    if (end > record_end) {
      m_.problem = {Problem::Kind::malformed, "the handshake message runs past its record", at + 1};
      return;
    }
    std::uint32_t p = at + 4;
    if (!need(p, 34, end, "the hello's version and random run past the message")) return;
    h.version = be16(&b_[p]);
    h.random_at = p + 2;
    p += 34;
    if (!list(p, 1, 1, end, h.session_id, "the session id runs past the message")) return;
    if (h.session_id.length > 32) {
      m_.problem = {Problem::Kind::malformed, "a session id longer than 32 bytes", p};
      return;
    }
    p = h.session_id.at + h.session_id.length;
    if (h.type == kClientHello) {
      if (!list(p, 2, 2, end, h.cipher_suites, "the cipher suites run past the message")) return;
      p = h.cipher_suites.at + h.cipher_suites.length;
      if (!list(p, 1, 1, end, h.compression_methods,
                "the compression methods run past the message"))
        return;
      p = h.compression_methods.at + h.compression_methods.length;
    } else {
      if (!need(p, 3, end, "the cipher suite runs past the message")) return;
      h.cipher_suite = be16(&b_[p]);
      h.compression_methods = {p + 2, 1};
      p += 3;
    }
    if (p != end) {
      // Read one by one: the extensions before a cut still count.
      if (!need(p, 2, end, "the extensions' length runs past the handshake message")) return;
      h.extensions = {p + 2, be16(&b_[p])};
      if (h.extensions.at + h.extensions.length > end) {
        m_.problem = {Problem::Kind::malformed, "the extensions run past the handshake message", p};
        return;
      }
      const std::uint32_t ext_end = h.extensions.at + h.extensions.length;
      for (std::uint32_t q = h.extensions.at; q < ext_end; ++h.extension_count) {
        if (!need(q, 4, ext_end, "an extension header runs past the extensions")) return;
        const std::uint16_t type = be16(&b_[q]);
        const std::uint16_t n = be16(&b_[q + 2]);
        if (!need(q + 4, n, ext_end, "an extension runs past the extensions")) return;
        if (!extension(h, type, q + 4, q + 4 + n)) return;
        q += 4u + n;
      }
    }
    h.complete = true;
  }

 private:
  std::span<const std::uint8_t> b_;
  TlsMessage& m_;
  bool cut_by_capture_;
};

}  // namespace

bool looks_like_tls(std::span<const std::uint8_t> bytes) noexcept {
  return is_record_header(bytes);
}

TlsMessage decode_tls(std::span<const std::uint8_t> bytes, std::uint32_t length) noexcept {
  TlsMessage m;
  const auto size = static_cast<std::uint32_t>(bytes.size());
  if (length == 0) length = size;
  const bool cut_by_capture = size < length;
  if (size >= 3 && !is_record_header(bytes)) {
    m.continuation = true;
    return m;
  }
  if (size == 0 && cut_by_capture)
    m.problem = {Problem::Kind::truncated, "the record header needs 5 bytes", 0};
  HelloReader reader(bytes, m, cut_by_capture);
  // After Change Cipher Spec a handshake record is encrypted: its first byte is no type.
  bool encrypted = false;
  for (std::uint32_t at = 0; at < size;) {
    if (at + TlsRecord::kHeaderLength > size) {
      if (cut_by_capture)
        m.problem = {Problem::Kind::truncated, "the record header needs 5 bytes", size};
      else
        m.continues = true;
      return m;
    }
    if (!is_record_header(bytes.subspan(at))) {
      m.problem = {Problem::Kind::malformed, "a record header with an unknown type or version", at};
      return m;
    }
    TlsRecord r{at, bytes[at], be16(&bytes[at + 1]), be16(&bytes[at + 3])};
    ++m.records_seen;
    if (m.record_count < TlsMessage::kMaxRecords) m.records[m.record_count++] = r;
    if (r.length > kMaxRecordLength) {
      m.problem = {Problem::Kind::malformed, "a record longer than 18432 bytes", at + 3};
      return m;
    }
    const std::uint32_t body = at + TlsRecord::kHeaderLength, end = body + r.length;
    if (r.content_type == kChangeCipherSpec) encrypted = true;
    if (r.content_type == kHandshake && !encrypted && m.hello.type == 0 && body < size &&
        (bytes[body] == kClientHello || bytes[body] == kServerHello)) {
      reader.read(body, end);
      if (m.problem || m.continues) return m;
    }
    if (end > size) {
      if (cut_by_capture)
        m.problem = {Problem::Kind::truncated, "the record was cut by the capture", size};
      else
        m.continues = true;
      return m;
    }
    at = end;
  }
  if (cut_by_capture)
    m.problem = {Problem::Kind::truncated, "the capture cut the segment after a whole record",
                 size};
  return m;
}

std::string_view version_name(std::uint16_t version) noexcept {
  switch (version) {
    case 0x0300:
      return "SSL 3.0";
    case 0x0301:
      return "TLS 1.0";
    case 0x0302:
      return "TLS 1.1";
    case 0x0303:
      return "TLS 1.2";
    case 0x0304:
      return "TLS 1.3";
  }
  if ((version & 0x0f0f) == 0x0a0a && (version >> 8) == (version & 0xff))
    return "Reserved (GREASE)";
  return "";
}

std::string_view cipher_suite_name(std::uint16_t suite) noexcept {
  switch (suite) {
    case 0x1301:
      return "TLS_AES_128_GCM_SHA256";
    case 0x1302:
      return "TLS_AES_256_GCM_SHA384";
    case 0x1303:
      return "TLS_CHACHA20_POLY1305_SHA256";
    case 0xc02b:
      return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    case 0xc02c:
      return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
    case 0xc02f:
      return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    case 0xc030:
      return "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
    case 0xcca8:
      return "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
    case 0xcca9:
      return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
    case 0xccaa:
      return "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
    case 0xc009:
      return "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA";
    case 0xc00a:
      return "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA";
    case 0xc013:
      return "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA";
    case 0xc014:
      return "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA";
    case 0x009c:
      return "TLS_RSA_WITH_AES_128_GCM_SHA256";
    case 0x009d:
      return "TLS_RSA_WITH_AES_256_GCM_SHA384";
    case 0x009e:
      return "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256";
    case 0x009f:
      return "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384";
    case 0x002f:
      return "TLS_RSA_WITH_AES_128_CBC_SHA";
    case 0x0035:
      return "TLS_RSA_WITH_AES_256_CBC_SHA";
    case 0x00ff:
      return "TLS_EMPTY_RENEGOTIATION_INFO_SCSV";
    case 0x5600:
      return "TLS_FALLBACK_SCSV";
  }
  if ((suite & 0x0f0f) == 0x0a0a && (suite >> 8) == (suite & 0xff)) return "Reserved (GREASE)";
  return "";
}

std::string_view group_name(std::uint16_t group) noexcept {
  switch (group) {
    case 23:
      return "secp256r1";
    case 24:
      return "secp384r1";
    case 25:
      return "secp521r1";
    case 29:
      return "x25519";
    case 30:
      return "x448";
    case 256:
      return "ffdhe2048";
    case 257:
      return "ffdhe3072";
    case 258:
      return "ffdhe4096";
    case 259:
      return "ffdhe6144";
    case 260:
      return "ffdhe8192";
    case 0x11ec:
      return "X25519MLKEM768";
    case 0x6399:
      return "X25519Kyber768Draft00";
  }
  if ((group & 0x0f0f) == 0x0a0a && (group >> 8) == (group & 0xff)) return "Reserved (GREASE)";
  return "";
}

std::string_view handshake_type_name(std::uint8_t type) noexcept {
  switch (type) {
    case 0:
      return "Hello Request";
    case kClientHello:
      return "Client Hello";
    case kServerHello:
      return "Server Hello";
    case 4:
      return "New Session Ticket";
    case 5:
      return "End of Early Data";
    case 8:
      return "Encrypted Extensions";
    case 11:
      return "Certificate";
    case 12:
      return "Server Key Exchange";
    case 13:
      return "Certificate Request";
    case 14:
      return "Server Hello Done";
    case 15:
      return "Certificate Verify";
    case 16:
      return "Client Key Exchange";
    case 20:
      return "Finished";
    case 24:
      return "Key Update";
  }
  return "";
}

std::string_view extension_name(std::uint16_t type) noexcept {
  switch (type) {
    case kServerName:
      return "server_name";
    case 5:
      return "status_request";
    case kSupportedGroups:
      return "supported_groups";
    case 11:
      return "ec_point_formats";
    case 13:
      return "signature_algorithms";
    case kAlpn:
      return "application_layer_protocol_negotiation";
    case 18:
      return "signed_certificate_timestamp";
    case 21:
      return "padding";
    case 22:
      return "encrypt_then_mac";
    case 23:
      return "extended_master_secret";
    case 27:
      return "compress_certificate";
    case 35:
      return "session_ticket";
    case 41:
      return "pre_shared_key";
    case 42:
      return "early_data";
    case kSupportedVersions:
      return "supported_versions";
    case 45:
      return "psk_key_exchange_modes";
    case kKeyShare:
      return "key_share";
    case 0xfe0d:
      return "encrypted_client_hello";
    case 0xff01:
      return "renegotiation_info";
  }
  return "";
}

}  // namespace duplex::tls
