#include "duplex/apps/chat/chat_irc.h"

#include <algorithm>
#include <cctype>

#include "duplex/apps/chat/chat_auth.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/proto/http_parser.h"
#include "duplex/proto/irc_message.h"

namespace duplex::apps {
namespace {

constexpr std::string_view kServer = "duplex";
constexpr std::string_view kVersion = "duplex-0.1.0";

std::string channel(std::string_view room) { return "#" + std::string(room); }

// "#lobby" -> "lobby"; "" when it is no channel name.
std::string room_of_channel(std::string_view name) {
  if (name.size() < 2 || name.front() != '#') return {};
  return std::string(name.substr(1));
}

// mIRC's formatting codes (bold, colour with its digits, italic, underline, reverse, reset)
// are control characters, which the chat refuses: they are taken out, the text stays.
std::string without_formatting(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto digit_at = [&](std::size_t i) {
    return i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\x03') {  // colour: up to two digits, then ",NN" for the background
      for (int n = 0; n < 2 && digit_at(i + 1); ++n) ++i;
      if (i + 1 < text.size() && text[i + 1] == ',' && digit_at(i + 2)) {
        ++i;
        for (int n = 0; n < 2 && digit_at(i + 1); ++n) ++i;
      }
      continue;
    }
    if (c == '\x02' || c == '\x0f' || c == '\x11' || c == '\x16' || c == '\x1d' || c == '\x1e' ||
        c == '\x1f')
      continue;
    out.push_back(c);
  }
  return out;
}

// "a b c" -> {"a", "b", "c"} (the hub's notices: names and rooms hold no spaces).
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto end = s.find(' ');
    if (end != 0) out.push_back(s.substr(0, end));
    if (end == std::string_view::npos) break;
    s.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace

IrcConversation::IrcConversation(ChatLineLink& link, ChatHub& hub, std::string token)
    : link_(link), hub_(hub), token_(std::move(token)), pass_ok_(token_.empty()) {}

std::string IrcConversation::source(std::string_view name) const {
  return std::string(name) + "!" + std::string(name) + "@" + std::string(kServer);
}

std::string IrcConversation::room() const { return hub_.room_of(link_.member()); }

void IrcConversation::reply(std::string_view numeric,
                            std::initializer_list<std::string_view> params) {
  // Every numeric names its target first: the nick, or "*" before there is one.
  std::string out = ":" + std::string(kServer) + " " + std::string(numeric) + " " +
                    (nick_.empty() ? std::string("*") : nick_);
  std::string rest = irc::line("", "X", params);  // "X p1 p2 :last\r\n"
  out.append(rest, 1, std::string::npos);
  link_.send_line(out);
}

void IrcConversation::line(const std::string& text) {
  const auto m = irc::parse(text);
  if (!m) return;  // an empty line, or no command: ignored, as servers do
  command(*m);
}

void IrcConversation::command(const irc::Message& m) {
  const std::string& c = m.command;
  const auto param = [&](std::size_t i) -> std::string_view {
    return i < m.params.size() ? std::string_view(m.params[i]) : std::string_view();
  };
  if (c == "PING") return link_.send_line(irc::line(kServer, "PONG", {kServer, param(0)}));
  if (c == "PONG") return;
  if (c == "QUIT") return link_.quit();
  if (c == "CAP") {
    const std::string sub(param(0));
    if (sub == "LS" || sub == "LIST")
      link_.send_line(irc::line(kServer, "CAP", {nick_.empty() ? "*" : nick_, sub, ""}));
    else if (sub == "REQ")
      link_.send_line(irc::line(kServer, "CAP", {nick_.empty() ? "*" : nick_, "NAK", param(1)}));
    return;
  }
  if (c == "PASS") {
    if (registered_) return reply("462", {"You may not reregister"});
    pass_ok_ = token_.empty() || same_token(param(0), token_);
    return;
  }
  if (c == "NICK") {
    if (m.params.empty()) return reply("431", {"No nickname given"});
    return nick(std::string(param(0)));
  }
  if (c == "USER") {
    if (registered_) return reply("462", {"You may not reregister"});
    if (m.params.size() < 4) return reply("461", {"USER", "Not enough parameters"});
    user_ = true;
    register_if_ready();
    return;
  }
  if (!registered_) return reply("451", {"You have not registered"});
  if (c == "JOIN") {
    if (m.params.empty()) return reply("461", {"JOIN", "Not enough parameters"});
    return join(param(0));
  }
  if (c == "PART") return part(param(0));
  if (c == "PRIVMSG" || c == "NOTICE") return privmsg(m, c == "NOTICE");
  if (c == "NAMES") return names(m.params.empty() ? room() : room_of_channel(param(0)));
  if (c == "WHO") return who(m.params.empty() ? room() : room_of_channel(param(0)));
  if (c == "LIST") return list();
  if (c == "TOPIC") {
    if (m.params.empty()) return reply("461", {"TOPIC", "Not enough parameters"});
    return reply("331", {param(0), "No topic is set"});
  }
  if (c == "MODE") {
    if (m.params.empty()) return reply("461", {"MODE", "Not enough parameters"});
    if (room_of_channel(param(0)).empty()) return reply("221", {"+"});
    if (m.params.size() > 1 && param(1).find('b') != std::string_view::npos)
      return reply("368", {param(0), "End of channel ban list"});
    return reply("324", {param(0), "+nt"});
  }
  if (c == "WHOIS") {
    const std::string who_name(m.params.empty() ? "" : m.params.back());
    if (hub_.name_taken(who_name) || http::iequals(who_name, nick_))
      reply("311", {who_name, who_name, kServer, "*", who_name});
    return reply("318", {who_name, "End of /WHOIS list"});
  }
  if (c == "AWAY") return reply(m.params.empty() ? "305" : "306", {"away noted"});
  if (c == "USERHOST") return reply("302", {""});
  reply("421", {c, "Unknown command"});
}

bool IrcConversation::register_if_ready() {
  if (registered_ || nick_.empty() || !user_) return false;
  if (!pass_ok_) {
    reply("464", {"Password incorrect: this chat needs its token as PASS"});
    link_.refuse(closing("wrong or missing PASS"));
    return false;
  }
  // Names are checked only now, once PASS is: no one without the token learns who is on.
  if (hub_.name_taken(nick_, link_.member())) {
    const std::string wanted = std::exchange(nick_, std::string());  // the client tries another
    reply("433", {wanted, "Nickname is already in use"});
    return false;
  }
  registered_ = true;
  reply("001", {"Welcome to duplex chat, " + nick_});
  reply("002", {"Your host is duplex, running " + std::string(kVersion)});
  reply("003", {"This server speaks the chat of duplex serve"});
  reply("004", {kServer, kVersion, "i", "nt"});
  reply("005", {"CHANTYPES=#", "NICKLEN=32", "CHANNELLEN=33", "CASEMAPPING=ascii", "NETWORK=duplex",
                "are supported by this server"});
  reply("375", {"- duplex Message of the day -"});
  reply("372", {"- rooms are channels: /list shows them, /join #lobby enters one"});
  reply("372", {"- the terminals (duplex chat, nc) and the browsers of this chat read you"});
  reply("376", {"End of /MOTD command"});
  return true;
}

void IrcConversation::nick(const std::string& name) {
  std::string why;
  if (!ChatHub::valid_name(name, &why)) return reply("432", {name, "Erroneous nickname: " + why});
  if (name == nick_) return;
  if (!registered_) {
    nick_ = name;
    register_if_ready();
    return;
  }
  if (hub_.name_taken(name, link_.member()))
    return reply("433", {name, "Nickname is already in use"});
  const std::string old = nick_;
  nick_ = name;
  if (room().empty()) {
    link_.send_line(irc::line(source(old), "NICK", {name}));
  } else {
    hub_.rename(link_.member(), name);  // its notice tells us too, as a NICK line
  }
}

void IrcConversation::join(std::string_view channels) {
  if (channels == "0") return part();
  const std::string first(channels.substr(0, channels.find(',')));
  const std::string name = room_of_channel(first);
  std::string why;
  if (name.empty() || !ChatHub::valid_name(name, &why))
    return reply("403", {first, "No such channel: rooms are #name, with letters, digits, _ . -"});
  if (name == room()) return;
  // A name is held only by members in a room: someone may have taken ours meanwhile.
  if (hub_.name_taken(nick_, link_.member()))
    return reply("433", {nick_, "Nickname is already in use: take another with NICK, then JOIN"});
  part();
  const auto history = hub_.join(link_.member(), name, nick_);
  link_.send_line(irc::line(source(nick_), "JOIN", {channel(name)}));
  reply("331", {channel(name), "No topic is set"});
  names(name);
  for (const auto& m : history) link_.send_line(message(m));
}

void IrcConversation::part(std::string_view named) {
  const std::string was = room();
  if (!named.empty() && room_of_channel(named.substr(0, named.find(','))) != was)
    return reply("442", {named, "You're not on that channel"});
  if (was.empty()) return;
  own_.clear();
  hub_.leave(link_.member());
  link_.send_line(irc::line(source(nick_), "PART", {channel(was)}));
}

void IrcConversation::privmsg(const irc::Message& m, bool is_notice) {
  if (m.params.size() < 2 || m.params[1].empty()) {
    if (!is_notice) reply("412", {"No text to send"});
    return;
  }
  const std::string& target = m.params[0];
  const std::string name = room_of_channel(target);
  if (name.empty()) {
    if (!is_notice)
      reply("401", {target, "No such nick: this chat has rooms, not private messages"});
    return;
  }
  if (name != room()) {
    if (!is_notice) reply("404", {target, "Cannot send to channel: join it first"});
    return;
  }
  std::string text = without_formatting(m.params[1]);
  if (text.size() > 2 && text.front() == '\x01') {  // CTCP: ACTION is "/me", the rest unsaid
    if (text.rfind("\x01"
                   "ACTION ",
                   0) != 0)
      return;
    text = "/me " + text.substr(8, text.size() - 8 - (text.back() == '\x01' ? 1 : 0));
  }
  link_.post(
      text,
      [this](const ChatMessage& posted) {
        if (posted.room == room()) own_.emplace(posted.room, posted.id);
      },
      [this, target, is_notice](std::string_view why) {
        if (!is_notice) reply("404", {target, "Cannot send to channel: " + std::string(why)});
      });
}

void IrcConversation::names(std::string_view room_name) {
  if (!room_name.empty()) {  // lines of about 400 bytes: IRC's are 512 at most
    std::string some;
    for (const auto& n : hub_.members(room_name)) {
      if (!some.empty() && some.size() + n.size() > 400) {
        reply("353", {"=", channel(room_name), some});
        some.clear();
      }
      if (!some.empty()) some.push_back(' ');
      some.append(n);
    }
    if (!some.empty()) reply("353", {"=", channel(room_name), some});
  }
  reply("366", {room_name.empty() ? "*" : channel(room_name), "End of /NAMES list"});
}

void IrcConversation::who(std::string_view room_name) {
  if (!room_name.empty())
    for (const auto& n : hub_.members(room_name))
      reply("352", {channel(room_name), n, kServer, kServer, n, "H", "0 " + n});
  reply("315", {room_name.empty() ? "*" : channel(room_name), "End of /WHO list"});
}

void IrcConversation::list() {
  reply("321", {"Channel", "Users  Name"});
  for (const auto& r : hub_.rooms())
    reply("322",
          {channel(r.name), std::to_string(r.online),
           std::to_string(r.messages) + (r.messages == 1 ? " message" : " messages") + " stored"});
  reply("323", {"End of /LIST"});
}

std::string IrcConversation::message(const ChatMessage& m) {
  if (own_.erase({m.room, m.id}) != 0) return {};  // the client shows its own line already
  std::string text = m.text;
  if (text.rfind("/me ", 0) == 0)
    text =
        "\x01"
        "ACTION " +
        text.substr(4) + "\x01";
  return irc::line(source(m.name), "PRIVMSG", {channel(m.room), text});
}

// The hub's notices ("alice joined lobby", "bob left lobby", "bob is now rob") become the
// JOIN, PART and NICK lines that keep an IRC client's list of names right; others a NOTICE.
std::string IrcConversation::notice(std::string_view text) const {
  const auto w = words(text);
  if (w.size() == 3 && w[1] == "joined") return irc::line(source(w[0]), "JOIN", {channel(w[2])});
  if (w.size() == 3 && w[1] == "left") return irc::line(source(w[0]), "PART", {channel(w[2])});
  if (w.size() == 4 && w[1] == "is" && w[2] == "now")
    return irc::line(source(w[0]), "NICK", {w[3]});
  const std::string r = room();
  return irc::line(kServer, "NOTICE",
                   {r.empty() ? (nick_.empty() ? "*" : nick_) : channel(r), text});
}

std::string IrcConversation::error(std::string_view text) const {
  return irc::line(kServer, "NOTICE", {nick_.empty() ? "*" : nick_, text});
}

std::string IrcConversation::farewell() const {
  return closing(nick_.empty() ? std::string("*") : nick_);
}

std::string IrcConversation::closing(std::string_view why) const {
  return irc::line("", "ERROR", {"Closing Link: " + std::string(why)});
}

}  // namespace duplex::apps
