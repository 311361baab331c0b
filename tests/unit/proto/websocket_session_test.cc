#include "duplex/proto/websocket_session.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace duplex::websocket {
namespace {

using Kind = Session::Event::Kind;
using State = Session::State;

const std::array<std::uint8_t, 4> kKey = {0x01, 0x02, 0x03, 0x04};

std::span<const std::uint8_t> span_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A frame as a client sends it (masked).
std::string client_frame(Opcode op, std::string_view payload, bool fin = true) {
  std::string out;
  encode_frame(out, op, span_of(payload), fin, &kKey);
  return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xff));
  p.append(reason);
  return p;
}

std::vector<Session::Event> events(Session& s) {
  std::vector<Session::Event> out;
  Session::Event ev;
  while (s.next_event(ev)) out.push_back(std::move(ev));
  return out;
}

// What a client would read from the server's output.
std::vector<Session::Event> as_client_sees(Session& server) {
  Session client(Role::client);
  client.receive(server.output());
  return events(client);
}

// The close code in the server's output, as the client reads it (0 if none).
std::uint16_t sent_close_code(Session& server) {
  for (const auto& ev : as_client_sees(server)) {
    if (ev.kind == Kind::close) return ev.code;
  }
  return 0;
}

Session::Event only_event(Session& s) {
  auto evs = events(s);
  EXPECT_EQ(evs.size(), 1u);
  return evs.empty() ? Session::Event{} : evs.front();
}

TEST(WebSocketSession, MaskedTextFrameBecomesATextEvent) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::text, "Hello"));
  const auto ev = only_event(s);
  EXPECT_EQ(ev.kind, Kind::text);
  EXPECT_EQ(ev.data, "Hello");
}

TEST(WebSocketSession, BinaryFrameBecomesABinaryEvent) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::binary, std::string("\x00\xff\x80", 3)));
  const auto ev = only_event(s);
  EXPECT_EQ(ev.kind, Kind::binary);
  EXPECT_EQ(ev.data, std::string("\x00\xff\x80", 3));
}

TEST(WebSocketSession, MessageArrivingOneByteAtATimeIsAssembled) {
  Session s(Role::server);
  const auto wire = client_frame(Opcode::text, std::string(300, 'x'));
  for (char c : wire) s.receive(std::string_view(&c, 1));
  EXPECT_EQ(only_event(s).data, std::string(300, 'x'));
}

TEST(WebSocketSession, FragmentedMessageIsDeliveredOnceWhole) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::text, "frag", false) +
            client_frame(Opcode::continuation, "men", false) +
            client_frame(Opcode::continuation, "ted"));
  EXPECT_EQ(only_event(s).data, "fragmented");
}

TEST(WebSocketSession, PingBetweenFragmentsIsAnsweredAndTheMessageSurvives) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::binary, "ab", false) + client_frame(Opcode::ping, "p1") +
            client_frame(Opcode::continuation, "cd"));
  const auto evs = events(s);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].kind, Kind::ping);
  EXPECT_EQ(evs[1].data, "abcd");
  const auto seen = as_client_sees(s);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, Kind::pong);
}

TEST(WebSocketSession, PingIsAnsweredWithAPongCarryingItsPayload) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::ping, "are you there"));
  const auto seen = as_client_sees(s);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, Kind::pong);
  EXPECT_EQ(seen[0].data, "are you there");
}

TEST(WebSocketSession, PongIsReportedAndNotAnswered) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::pong, "x"));
  EXPECT_EQ(only_event(s).kind, Kind::pong);
  EXPECT_TRUE(s.output().empty());
}

TEST(WebSocketSession, InvalidUtf8TextFailsWith1007) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::text, "bad \xff byte"));
  const auto ev = only_event(s);
  EXPECT_EQ(ev.kind, Kind::error);
  EXPECT_EQ(ev.code, 1007);
  EXPECT_EQ(sent_close_code(s), 1007);
  EXPECT_EQ(s.state(), State::closed);
}

TEST(WebSocketSession, InvalidUtf8InAnEarlyFragmentFailsBeforeTheMessageEnds) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::text, "ok", false) +
            client_frame(Opcode::continuation, "\xed\xa0\x80", false));
  EXPECT_EQ(only_event(s).code, 1007);
}

TEST(WebSocketSession, CodePointSplitAcrossFragmentsIsValid) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::text, "\xe2\x82", false) +
            client_frame(Opcode::continuation, "\xac"));
  EXPECT_EQ(only_event(s).data, "\xe2\x82\xac");
}

TEST(WebSocketSession, TextEndingInsideACodePointFailsWith1007) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::text, "euro \xe2\x82"));
  EXPECT_EQ(only_event(s).code, 1007);
}

TEST(WebSocketSession, BinaryIsNotCheckedAsUtf8) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::binary, "\xff\xfe"));
  EXPECT_EQ(only_event(s).kind, Kind::binary);
}

TEST(WebSocketSession, MessageOverTheLimitFailsWith1009) {
  Session s(Role::server, SessionOptions{.max_message_size = 16});
  s.receive(client_frame(Opcode::binary, std::string(17, 'x')));
  EXPECT_EQ(only_event(s).code, 1009);
  EXPECT_EQ(sent_close_code(s), 1009);
}

TEST(WebSocketSession, MessageAtTheLimitIsDelivered) {
  Session s(Role::server, SessionOptions{.max_message_size = 16});
  s.receive(client_frame(Opcode::binary, std::string(16, 'x')));
  EXPECT_EQ(only_event(s).kind, Kind::binary);
}

TEST(WebSocketSession, FragmentsAddingUpOverTheLimitFailWith1009) {
  Session s(Role::server, SessionOptions{.max_message_size = 16});
  s.receive(client_frame(Opcode::binary, std::string(10, 'x'), false) +
            client_frame(Opcode::continuation, std::string(10, 'x')));
  EXPECT_EQ(only_event(s).code, 1009);
}

TEST(WebSocketSession, HugeAnnouncedLengthFailsWith1009BeforeAnyPayload) {
  Session s(Role::server);
  const std::string header = {'\x82', '\xff', 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4};  // 4 GiB
  s.receive(header);
  EXPECT_EQ(only_event(s).code, 1009);
}

TEST(WebSocketSession, PeersCloseIsEchoedWithItsCodeAndTheSessionCloses) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::close, close_payload(1001, "going")));
  const auto ev = only_event(s);
  EXPECT_EQ(ev.kind, Kind::close);
  EXPECT_EQ(ev.code, 1001);
  EXPECT_EQ(ev.data, "going");
  EXPECT_EQ(sent_close_code(s), 1001);
  EXPECT_EQ(s.state(), State::closed);
}

TEST(WebSocketSession, EmptyCloseIsReportedAs1005AndAnsweredWithoutACode) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::close, ""));
  EXPECT_EQ(only_event(s).code, 1005);
  EXPECT_EQ(s.output(), std::string("\x88\x00", 2));
}

TEST(WebSocketSession, CloseCodesThatMayNotBeSentFailWith1002) {
  for (int code : {999, 1004, 1005, 1006, 1015, 2000, 5000}) {
    Session s(Role::server);
    s.receive(client_frame(Opcode::close, close_payload(static_cast<std::uint16_t>(code))));
    EXPECT_EQ(only_event(s).code, 1002) << code;
  }
}

TEST(WebSocketSession, ApplicationCloseCodeIsAccepted) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::close, close_payload(4000)));
  EXPECT_EQ(only_event(s).code, 4000);
}

TEST(WebSocketSession, CloseWithOneBytePayloadFailsWith1002) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::close, "\x03"));
  EXPECT_EQ(only_event(s).code, 1002);
}

TEST(WebSocketSession, CloseReasonThatIsNotUtf8FailsWith1007) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::close, close_payload(1000, "\xc0\xaf")));
  EXPECT_EQ(only_event(s).code, 1007);
}

TEST(WebSocketSession, OurCloseAnsweredByThePeerClosesWithoutASecondCloseFrame) {
  Session s(Role::server);
  ASSERT_TRUE(s.close(CloseCode::going_away, "shutting down"));
  EXPECT_EQ(s.state(), State::closing);
  s.consume_output(s.output().size());
  s.receive(client_frame(Opcode::close, close_payload(1001)));
  EXPECT_EQ(s.state(), State::closed);
  EXPECT_TRUE(s.output().empty());
}

TEST(WebSocketSession, NothingIsSentAfterOurClose) {
  Session s(Role::server);
  s.close();
  const auto before = s.output().size();
  EXPECT_FALSE(s.send_text("late"));
  EXPECT_EQ(s.output().size(), before);
}

TEST(WebSocketSession, OurCloseWithACodeThatMayNotBeSentGoesOutAs1000) {
  Session s(Role::server);
  s.close(1006, "");
  EXPECT_EQ(sent_close_code(s), 1000);
}

TEST(WebSocketSession, OurLongCloseReasonIsCutToFitAControlFrame) {
  Session s(Role::server);
  s.close(CloseCode::going_away, std::string(200, 'r'));
  const auto seen = as_client_sees(s);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].data, std::string(123, 'r'));
}

TEST(WebSocketSession, ProtocolErrorFromTheFramingFailsWith1002) {
  Session s(Role::server);
  std::string unmasked;
  encode_frame(unmasked, Opcode::text, span_of("x"));
  s.receive(unmasked);
  EXPECT_EQ(only_event(s).code, 1002);
  EXPECT_EQ(sent_close_code(s), 1002);
}

TEST(WebSocketSession, InputAfterAFailureIsIgnored) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::text, "\xff"));
  events(s);
  s.receive(client_frame(Opcode::text, "more"));
  EXPECT_TRUE(events(s).empty());
}

TEST(WebSocketSession, ClientMasksWhatItSendsAndTheServerReadsIt) {
  Session client(Role::client);
  client.send_text("from the client");
  EXPECT_NE(static_cast<unsigned char>(client.output()[1]) & 0x80, 0);
  Session server(Role::server);
  server.receive(client.output());
  EXPECT_EQ(only_event(server).data, "from the client");
}

TEST(WebSocketSession, ServerSendsUnmaskedFrames) {
  Session s(Role::server);
  s.send_binary(span_of("abc"));
  EXPECT_EQ(s.output(), std::string("\x82\x03"
                                    "abc",
                                    5));
}

TEST(WebSocketSession, QueuedBytesCountUnsentOutputAndUnreadEvents) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::binary, std::string(1000, 'x')));
  s.send_binary(span_of(std::string(500, 'y')));
  EXPECT_EQ(s.queued_bytes(), 1000u + 504u);
  Session::Event ev;
  s.next_event(ev);
  s.consume_output(504);
  EXPECT_EQ(s.queued_bytes(), 0u);
}

// Pausing the transport for a half-read message would deadlock: it finishes only by reading.
TEST(WebSocketSession, QueuedBytesLeaveOutAMessageBeingAssembled) {
  Session s(Role::server);
  s.receive(client_frame(Opcode::binary, std::string(700, 'x'), false));
  EXPECT_EQ(s.queued_bytes(), 0u);
  EXPECT_EQ(s.assembling_bytes(), 700u);
}

}  // namespace
}  // namespace duplex::websocket
