#include "duplex/proto/websocket_handshake.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <charconv>

#include "duplex/base/error.h"

namespace duplex::websocket {
namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True if any comma-separated element of any `name` field equals `token` (RFC 9110 5.6.1
// lists; a field may also be repeated). For Upgrade, "websocket/13" style products count by
// their name.
bool has_token(std::span<const HeaderField> headers, std::string_view name,
               std::string_view token) noexcept {
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      auto item = trim(rest.substr(0, comma));
      if (const auto slash = item.find('/'); slash != std::string_view::npos) {
        item = item.substr(0, slash);
      }
      if (iequals(item, token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

// The one value of a field that must not repeat; `count` says how many were found.
std::string_view single(std::span<const HeaderField> headers, std::string_view name,
                        int& count) noexcept {
  std::string_view value;
  count = 0;
  for (const auto& h : headers) {
    if (iequals(h.name, name)) {
      value = trim(h.value);
      ++count;
    }
  }
  return value;
}

bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// 16 bytes in base64 are exactly 22 characters and "==", and the last character before the
// padding carries only 2 meaningful bits, so its low 4 bits must be zero (canonical form).
bool is_16_byte_base64(std::string_view key) noexcept {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return (kAlphabet.find(key[21]) & 0x0f) == 0;
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  // EVP_EncodeBlock writes a terminating NUL after the 4*n characters.
  std::string buffer(out.size() + 1, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(buffer.data()), data, static_cast<int>(size));
  out.assign(buffer.data(), out.size());
  return out;
}

}  // namespace

std::string_view describe(HandshakeError error) noexcept {
  switch (error) {
    case HandshakeError::none:
      return "ok";
    case HandshakeError::not_get:
      return "a WebSocket upgrade must be a GET request";
    case HandshakeError::no_upgrade_websocket:
      return "the Upgrade header does not name websocket: send 'Upgrade: websocket'";
    case HandshakeError::no_connection_upgrade:
      return "the Connection header has no upgrade token: send 'Connection: Upgrade'";
    case HandshakeError::bad_version:
      return "unsupported Sec-WebSocket-Version: send 'Sec-WebSocket-Version: 13'";
    case HandshakeError::no_key:
      return "Sec-WebSocket-Key is missing: send 16 random bytes in base64";
    case HandshakeError::bad_key:
      return "Sec-WebSocket-Key is not one value of 16 bytes in base64 (24 characters ending '==')";
    case HandshakeError::bad_status:
      return "the server did not answer 101 Switching Protocols";
    case HandshakeError::bad_accept:
      return "Sec-WebSocket-Accept is missing or is not base64(SHA-1(key + GUID)) of our key";
    case HandshakeError::malformed_head:
      return "malformed HTTP head: lines must end in CRLF, with no folding and no space before ':'";
  }
  return "unknown handshake error";
}

HandshakeError check_client_handshake(std::span<const HeaderField> headers,
                                      std::string_view& key) noexcept {
  if (!has_token(headers, "Upgrade", "websocket")) return HandshakeError::no_upgrade_websocket;
  if (!has_token(headers, "Connection", "upgrade")) return HandshakeError::no_connection_upgrade;
  int count = 0;
  if (single(headers, "Sec-WebSocket-Version", count) != kVersion || count != 1) {
    return HandshakeError::bad_version;
  }
  const auto value = single(headers, "Sec-WebSocket-Key", count);
  if (count == 0) return HandshakeError::no_key;
  if (count > 1 || !is_16_byte_base64(value)) return HandshakeError::bad_key;
  key = value;
  return HandshakeError::none;
}

std::string accept_value(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kAcceptGuid.size());
  input.append(key).append(kAcceptGuid);
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  return base64(digest.data(), digest.size());
}

std::string accept_response(std::string_view key) {
  std::string out =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  out += accept_value(key);
  out += "\r\n\r\n";
  return out;
}

std::string reject_response(HandshakeError error) {
  const auto reason = describe(error);
  const bool version = error == HandshakeError::bad_version;
  std::string out = version ? "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
                            : "HTTP/1.1 400 Bad Request\r\n";
  out += "Connection: close\r\nContent-Type: text/plain\r\nContent-Length: ";
  out += std::to_string(reason.size() + 1);
  out += "\r\n\r\n";
  out += reason;
  out += '\n';
  return out;
}

std::string generate_key() {
  std::array<unsigned char, 16> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    throw Error(
        "cannot draw a WebSocket key: OpenSSL's random generator failed (check /dev/urandom)");
  }
  return base64(nonce.data(), nonce.size());
}

std::string client_request(std::string_view host, std::string_view path, std::string_view key) {
  std::string out = "GET ";
  out.append(path.empty() ? "/" : path).append(" HTTP/1.1\r\nHost: ").append(host);
  out.append(
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Key: ");
  out.append(key).append("\r\n\r\n");
  return out;
}

HandshakeError check_server_handshake(int status, std::span<const HeaderField> headers,
                                      std::string_view key) noexcept {
  if (status != 101) return HandshakeError::bad_status;
  if (!has_token(headers, "Upgrade", "websocket")) return HandshakeError::no_upgrade_websocket;
  if (!has_token(headers, "Connection", "upgrade")) return HandshakeError::no_connection_upgrade;
  int count = 0;
  const auto accept = single(headers, "Sec-WebSocket-Accept", count);
  try {
    if (count != 1 || accept != accept_value(key)) return HandshakeError::bad_accept;
  } catch (...) {  // allocation failure: refuse rather than accept blindly
    return HandshakeError::bad_accept;
  }
  return HandshakeError::none;
}

HandshakeError read_handshake_head(std::string_view bytes, HandshakeHead& head) {
  head = {};
  const auto end = bytes.find("\r\n\r\n");
  // A bare LF anywhere before the end (or in what we have so far) is malformed at once.
  const auto scan = end == std::string_view::npos ? bytes : bytes.substr(0, end + 2);
  for (std::size_t i = 0; i < scan.size(); ++i) {
    if (scan[i] == '\n' && (i == 0 || scan[i - 1] != '\r')) return HandshakeError::malformed_head;
    if (scan[i] == '\r' && i + 1 < scan.size() && scan[i + 1] != '\n') {
      return HandshakeError::malformed_head;
    }
  }
  if (end == std::string_view::npos) return HandshakeError::none;
  std::string_view rest = bytes.substr(0, end + 2);
  auto line_end = rest.find("\r\n");
  head.start_line = rest.substr(0, line_end);
  if (head.start_line.empty()) return HandshakeError::malformed_head;
  rest.remove_prefix(line_end + 2);
  while (!rest.empty()) {
    line_end = rest.find("\r\n");
    const auto line = rest.substr(0, line_end);
    rest.remove_prefix(line_end + 2);
    if (line.front() == ' ' || line.front() == '\t') return HandshakeError::malformed_head;
    const auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return HandshakeError::malformed_head;
    const auto name = line.substr(0, colon);
    if (name.back() == ' ' || name.back() == '\t') return HandshakeError::malformed_head;
    head.fields.push_back({name, trim(line.substr(colon + 1))});
  }
  head.size = end + 4;
  return HandshakeError::none;
}

std::string_view request_method(std::string_view start_line) noexcept {
  return start_line.substr(0, start_line.find(' '));
}

int response_status(std::string_view start_line) noexcept {
  if (!start_line.starts_with("HTTP/1.1 ") || start_line.size() < 12) return -1;
  int status = -1;
  const auto* first = start_line.data() + 9;
  const auto [ptr, ec] = std::from_chars(first, first + 3, status);
  if (ec != std::errc{} || ptr != first + 3) return -1;
  if (start_line.size() > 12 && start_line[12] != ' ') return -1;
  return status;
}

}  // namespace duplex::websocket
