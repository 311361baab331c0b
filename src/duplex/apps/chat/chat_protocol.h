// Public. The wire formats of `duplex serve`'s chat, shared by the server, `duplex chat`
// and the browser page: one room model, three ways in.
//
// TCP chat port (default 7000), one UTF-8 line per message, LF or CRLF; plain nc works.
//   server -> client
//     "* <text>"                  a notice: the greeting, joins, leaves, renames, /who...
//     "[HH:MM:SS] NAME: TEXT"     a message of the room (UTC time of the commit). The sender
//                                 gets its own line back only after the commit: that is its
//                                 acknowledgement (even if it has /joined another room since).
//     "! <text>"                  an error naming the cause and the fix; among them flood
//                                 control's "! not sent: flood control ..." and, last
//                                 before the close, "! flood: disconnected ...", and the
//                                 disk guard's "! not stored: the disk holding ..."
//   client -> server
//     "<text>"                    say it in the current room
//     "/nick NAME" "/join ROOM" "/who" "/rooms" "/help" "/quit"
//   Names ignore case (Alice and alice are one name; each keeps its spelling). /nick answers
//   "* OLD is now NAME", "* you are already NAME" or "! ...".
//   On connect: a greeting notice, the last kHistoryReplay messages of the room, then
//   "* you are NAME in ROOM".
//   Bound beyond loopback, that comes only after the first line "/auth TOKEN" (chat_auth.h):
//   before it the server sends "* this chat needs its token: send /auth TOKEN first", and
//   after it "* authenticated"; anything else gets one "! ..." line and the close.
//
// WebSocket /ws/chat on the dashboard's HTTP port, one JSON object per text frame.
//   client -> server
//     {"type":"hello","name":"alice","room":"lobby"}   optional; both fields optional
//     {"type":"say","text":"hi","client_id":"c1"}       client_id is echoed in the ack
//     {"type":"join","room":"ops"}  {"type":"nick","name":"bob"}
//   server -> client
//     {"type":"welcome","name":"guest-3","room":"lobby","online":4}
//     {"type":"history","room":"lobby","messages":[Message...]}      on join, oldest first
//     {"type":"message", ...Message}
//     {"type":"ack","client_id":"c1","id":42}                 after the commit, before the
//                                                             message itself is fanned out
//     {"type":"notice","text":"bob joined lobby"}
//     {"type":"error","message":"..."}
//   Message: {"id":42,"room":"lobby","name":"alice","text":"hi","ts":1764470000123,
//             "via":"tcp"|"websocket"|"http"}            ts: milliseconds since the epoch
//
// UDP discovery (default port 7001): a client broadcasts the probe datagram (the line
// "DUPLEX-DISCOVER 1\n" padded with spaces to kDiscoveryProbeBytes); every server that
// hears it and whose chat port the prober can reach answers by unicast with one JSON
// object: {"service":"duplex","version":"0.1.0","host":"name","chat_port":7000,
// "http_port":8080,"token_required":false}. The prober takes the address from the
// datagram's source. The answer is never larger than the probe, so a forged source
// address gains an attacker nothing (no amplification); any other datagram is ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace duplex::apps::chat {

inline constexpr std::uint16_t kDefaultChatPort = 7000;
inline constexpr std::uint16_t kDefaultDiscoveryPort = 7001;
inline constexpr std::uint16_t kDefaultHttpPort = 8080;
inline constexpr std::string_view kDefaultRoom = "lobby";
inline constexpr std::size_t kHistoryReplay = 100;
inline constexpr std::size_t kMaxTextBytes = 4096;  // longer: "! message too long ..."
inline constexpr std::size_t kMaxNameBytes = 32;    // names and rooms: [A-Za-z0-9_.-]
inline constexpr std::string_view kDiscoveryProbe = "DUPLEX-DISCOVER 1\n";  // its first line
inline constexpr std::size_t kDiscoveryProbeBytes = 256;  // the whole datagram, space-padded

}  // namespace duplex::apps::chat
