#include "duplex/proto/websocket_handshake.h"

#include <gtest/gtest.h>

#include <vector>

namespace duplex::websocket {
namespace {

// RFC 6455 section 1.3's worked example.
constexpr std::string_view kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::vector<HeaderField> good_request() {
  return {{"Host", "server.example.com"},
          {"Upgrade", "websocket"},
          {"Connection", "Upgrade"},
          {"Sec-WebSocket-Key", kRfcKey},
          {"Sec-WebSocket-Version", "13"}};
}

HandshakeError check(const std::vector<HeaderField>& headers) {
  std::string_view key;
  return check_client_handshake(headers, key);
}

void set(std::vector<HeaderField>& headers, std::string_view name, std::string_view value) {
  for (auto& h : headers) {
    if (h.name == name) h.value = value;
  }
}

TEST(WebSocketHandshake, AcceptValueOfTheRfcExampleKeyIsTheRfcsValue) {
  EXPECT_EQ(accept_value(kRfcKey), kRfcAccept);
}

TEST(WebSocketHandshake, RfcExampleRequestIsAcceptedAndItsKeyReturned) {
  std::string_view key;
  EXPECT_EQ(check_client_handshake(good_request(), key), HandshakeError::none);
  EXPECT_EQ(key, kRfcKey);
}

TEST(WebSocketHandshake, HeaderNamesAndTokensMatchCaseInsensitively) {
  const std::vector<HeaderField> headers = {{"upgrade", "WebSocket"},
                                            {"CONNECTION", "UPGRADE"},
                                            {"sec-websocket-key", kRfcKey},
                                            {"sec-websocket-version", "13"}};
  EXPECT_EQ(check(headers), HandshakeError::none);
}

TEST(WebSocketHandshake, ConnectionUpgradeIsFoundInATokenList) {
  auto headers = good_request();
  set(headers, "Connection", "keep-alive, Upgrade");
  EXPECT_EQ(check(headers), HandshakeError::none);
}

TEST(WebSocketHandshake, ConnectionWithoutUpgradeTokenIsRefused) {
  auto headers = good_request();
  set(headers, "Connection", "keep-alive, upgraded");
  EXPECT_EQ(check(headers), HandshakeError::no_connection_upgrade);
}

TEST(WebSocketHandshake, UpgradeToAnotherProtocolIsRefused) {
  auto headers = good_request();
  set(headers, "Upgrade", "h2c");
  EXPECT_EQ(check(headers), HandshakeError::no_upgrade_websocket);
}

TEST(WebSocketHandshake, VersionOtherThan13IsRefused) {
  auto headers = good_request();
  set(headers, "Sec-WebSocket-Version", "8");
  EXPECT_EQ(check(headers), HandshakeError::bad_version);
}

TEST(WebSocketHandshake, MissingKeyIsRefused) {
  auto headers = good_request();
  headers.erase(headers.begin() + 3);
  EXPECT_EQ(check(headers), HandshakeError::no_key);
}

TEST(WebSocketHandshake, KeyThatIsNot16BytesIsRefused) {
  auto headers = good_request();
  set(headers, "Sec-WebSocket-Key", "dGhlIHNhbXBsZQ==");  // 11 bytes
  EXPECT_EQ(check(headers), HandshakeError::bad_key);
}

TEST(WebSocketHandshake, KeyWithCharactersOutsideBase64IsRefused) {
  auto headers = good_request();
  set(headers, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZ!==");
  EXPECT_EQ(check(headers), HandshakeError::bad_key);
}

TEST(WebSocketHandshake, RepeatedKeyIsRefused) {
  auto headers = good_request();
  headers.push_back({"Sec-WebSocket-Key", kRfcKey});
  EXPECT_EQ(check(headers), HandshakeError::bad_key);
}

TEST(WebSocketHandshake, AcceptResponseIs101WithTheAcceptValue) {
  EXPECT_EQ(accept_response(kRfcKey),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

TEST(WebSocketHandshake, BadVersionIsAnswered426WithOurVersion) {
  const auto response = reject_response(HandshakeError::bad_version);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 426 "));
  EXPECT_NE(response.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
}

TEST(WebSocketHandshake, OtherRefusalsAreAnswered400) {
  EXPECT_TRUE(reject_response(HandshakeError::bad_key).starts_with("HTTP/1.1 400 "));
}

TEST(WebSocketHandshake, GeneratedKeysAreValid16ByteKeysAndDiffer) {
  const auto a = generate_key();
  const auto b = generate_key();
  auto headers = good_request();
  set(headers, "Sec-WebSocket-Key", a);
  EXPECT_EQ(check(headers), HandshakeError::none);
  EXPECT_NE(a, b);
}

TEST(WebSocketHandshake, ClientAcceptsTheServersResponseToItsKey) {
  HandshakeHead head;
  const auto response = accept_response(kRfcKey);
  ASSERT_EQ(read_handshake_head(response, head), HandshakeError::none);
  EXPECT_EQ(check_server_handshake(response_status(head.start_line), head.fields, kRfcKey),
            HandshakeError::none);
}

TEST(WebSocketHandshake, ClientRefusesAnAcceptValueForAnotherKey) {
  HandshakeHead head;
  const auto response = accept_response("AQIDBAUGBwgJCgsMDQ4PEA==");
  ASSERT_EQ(read_handshake_head(response, head), HandshakeError::none);
  EXPECT_EQ(check_server_handshake(101, head.fields, kRfcKey), HandshakeError::bad_accept);
}

TEST(WebSocketHandshake, ClientRefusesAStatusOtherThan101) {
  const std::vector<HeaderField> fields = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}};
  EXPECT_EQ(check_server_handshake(200, fields, kRfcKey), HandshakeError::bad_status);
}

TEST(WebSocketHandshake, ClientRequestPassesTheServerCheck) {
  const auto key = generate_key();
  HandshakeHead head;
  const auto request = client_request("127.0.0.1:9", "/chat", key);
  ASSERT_EQ(read_handshake_head(request, head), HandshakeError::none);
  EXPECT_EQ(head.start_line, "GET /chat HTTP/1.1");
  EXPECT_EQ(request_method(head.start_line), "GET");
  std::string_view got;
  EXPECT_EQ(check_client_handshake(head.fields, got), HandshakeError::none);
  EXPECT_EQ(got, key);
}

TEST(WebSocketHandshake, IncompleteHeadAsksForMoreBytes) {
  HandshakeHead head;
  EXPECT_EQ(read_handshake_head("GET / HTTP/1.1\r\nHost: a\r\n", head), HandshakeError::none);
  EXPECT_EQ(head.size, 0u);
}

TEST(WebSocketHandshake, HeadWithBareLfIsMalformed) {
  HandshakeHead head;
  EXPECT_EQ(read_handshake_head("GET / HTTP/1.1\nHost: a\r\n\r\n", head),
            HandshakeError::malformed_head);
}

TEST(WebSocketHandshake, HeadWithObsFoldIsMalformed) {
  HandshakeHead head;
  EXPECT_EQ(read_handshake_head("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", head),
            HandshakeError::malformed_head);
}

TEST(WebSocketHandshake, HeadWithSpaceBeforeColonIsMalformed) {
  HandshakeHead head;
  EXPECT_EQ(read_handshake_head("GET / HTTP/1.1\r\nHost : a\r\n\r\n", head),
            HandshakeError::malformed_head);
}

TEST(WebSocketHandshake, HeadSizeCoversTheEmptyLineAndNotWhatFollows) {
  HandshakeHead head;
  ASSERT_EQ(read_handshake_head("GET / HTTP/1.1\r\nHost: a\r\n\r\n\x81", head),
            HandshakeError::none);
  EXPECT_EQ(head.size, 27u);
}

}  // namespace
}  // namespace duplex::websocket
