// Public. The WebSocket opening handshake of RFC 6455 section 4, both sides, without any
// HTTP server: the caller hands over the request's or response's header fields as
// (name, value) pairs, however it parsed them, and gets the verdict and the bytes to send.
//
//   server: check_client_handshake(headers) -> accept_response(key) or reject_response(err)
//   client: generate_key() -> client_request(host, path, key) -> check_server_handshake()
//
// read_handshake_head() is a small, strict reader of an HTTP/1.1 head for endpoints that
// have no HTTP parser of their own (a bare TcpServer, a client). All functions are pure and
// safe to call from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::websocket {

// RFC 6455 1.3: the GUID appended to the key before hashing.
inline constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
inline constexpr std::string_view kVersion = "13";

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

enum class HandshakeError : std::uint8_t {
  none,
  not_get,                // the request method is not GET
  no_upgrade_websocket,   // Upgrade does not name websocket
  no_connection_upgrade,  // Connection has no "upgrade" token
  bad_version,            // Sec-WebSocket-Version is not 13 (answer 426 with ours)
  no_key,                 // Sec-WebSocket-Key missing
  bad_key,                // Sec-WebSocket-Key is not 16 bytes in base64, or repeated
  bad_status,             // the server's answer is not 101
  bad_accept,             // Sec-WebSocket-Accept missing or not the key's hash
  malformed_head,         // the head breaks HTTP/1.1 syntax (bare LF, fold, space before ':')
};

// One line naming the cause and what the peer should send instead.
std::string_view describe(HandshakeError error) noexcept;

// Server side: checks the client's header fields (names case-insensitively, list-valued
// fields split on commas). On success `key` is the Sec-WebSocket-Key value (a view into
// `headers`).
HandshakeError check_client_handshake(std::span<const HeaderField> headers,
                                      std::string_view& key) noexcept;

// base64(SHA-1(key + GUID)), the Sec-WebSocket-Accept value for `key`.
std::string accept_value(std::string_view key);

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection and Sec-WebSocket-Accept.
std::string accept_response(std::string_view key);

// 426 Upgrade Required with "Sec-WebSocket-Version: 13" for bad_version, 400 otherwise;
// both close the connection.
std::string reject_response(HandshakeError error);

// Client side: 16 random bytes (OpenSSL's RAND_bytes), in base64. Throws duplex::Error if
// the random generator fails.
std::string generate_key();

// The GET request that opens a WebSocket on `host` (a Host value, e.g. "127.0.0.1:8080").
std::string client_request(std::string_view host, std::string_view path, std::string_view key);

// Client side: checks the server's status code and header fields against our key.
HandshakeError check_server_handshake(int status, std::span<const HeaderField> headers,
                                      std::string_view key) noexcept;

// An HTTP/1.1 head (start line and fields, up to and including the empty line) read
// strictly: CRLF line ends only, no obs-fold, no whitespace before the colon.
struct HandshakeHead {
  std::string_view start_line;  // "GET /chat HTTP/1.1" or "HTTP/1.1 101 Switching Protocols"
  std::vector<HeaderField> fields;
  std::size_t size = 0;  // bytes of the head, including the final CRLF CRLF
};

// Returns none and fills `head` when `bytes` holds a complete head; malformed_head when it
// breaks the syntax; and none with head.size == 0 when more bytes are needed. Views point
// into `bytes`.
HandshakeError read_handshake_head(std::string_view bytes, HandshakeHead& head);

// The method of a request line ("GET") and the status of a status line (101; -1 if none).
std::string_view request_method(std::string_view start_line) noexcept;
int response_status(std::string_view start_line) noexcept;

}  // namespace duplex::websocket
