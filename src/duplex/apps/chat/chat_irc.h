// Public. The IRC side of the chat's line door (ChatTcpOptions::irc, `duplex serve
// --irc-port`): what an IRC client's lines mean to the hub, and how the hub's messages look
// to it. Rooms are channels (#lobby is the room lobby); a client is in one channel at a time
// (a JOIN leaves the one before, with its PART). Registration is PASS (the chat's token, when
// serve is bound beyond loopback), NICK and USER; CAP is answered with no capabilities.
// After it: JOIN, PART, PRIVMSG and NOTICE to the channel (CTCP ACTION is "/me ..."), NICK,
// NAMES, WHO, LIST, TOPIC, MODE, WHOIS, AWAY, PING, QUIT. The channel's history replays as
// PRIVMSGs on JOIN; a client's own message is not echoed back (no echo-message).
// Loop thread only, as the session that owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "duplex/apps/chat/chat_hub.h"

namespace duplex::irc {
struct Message;
}

namespace duplex::apps {

// What a conversation may do to its connection; the line session implements it.
class ChatLineLink {
 public:
  virtual ~ChatLineLink() = default;
  // Queues lines (whole, with CR LF) to the client; back-pressure applies.
  virtual void send_line(std::string_view line) = 0;
  virtual ChatMember* member() = 0;
  // Posts `text` as the member in its room: on_committed once stored, on_failed if refused.
  virtual void post(std::string_view text, std::function<void(const ChatMessage&)> on_committed,
                    std::function<void(std::string_view why)> on_failed) = 0;
  // The farewell after what waits, then FIN.
  virtual void quit() = 0;
  // Refused (a wrong PASS): `line` now, FIN, and the close after the grace time.
  virtual void refuse(std::string_view line) = 0;
};

class IrcConversation {
 public:
  // `token`: the chat's token, required as PASS before registration; empty: none.
  IrcConversation(ChatLineLink& link, ChatHub& hub, std::string token);

  void line(const std::string& text);  // one line from the client, without CR LF
  // How the hub's events look to this client; "" for nothing.
  std::string message(const ChatMessage& m);
  std::string notice(std::string_view text) const;
  std::string error(std::string_view text) const;
  std::string farewell() const;
  std::string closing(std::string_view why) const;  // "ERROR :Closing Link: why"
  bool registered() const noexcept { return registered_; }

 private:
  void command(const irc::Message& m);
  bool register_if_ready();
  void nick(const std::string& name);
  void join(std::string_view channels);
  void part(std::string_view named = {});
  void privmsg(const irc::Message& m, bool is_notice);
  void names(std::string_view room);
  void who(std::string_view room);
  void list();
  void reply(std::string_view numeric, std::initializer_list<std::string_view> params);
  std::string source(std::string_view name) const;  // "name!name@duplex"
  std::string room() const;                         // the room we are in, "" for none

  ChatLineLink& link_;
  ChatHub& hub_;
  std::string token_;
  std::string nick_;  // chosen (NICK), "" until then
  bool user_ = false;
  bool pass_ok_ = false;
  bool registered_ = false;
  // Our posts committed in our room and not yet delivered to us (they are not echoed):
  // room and id, as ids are per room with a Redis feed.
  std::set<std::pair<std::string, std::int64_t>> own_;
};

}  // namespace duplex::apps
