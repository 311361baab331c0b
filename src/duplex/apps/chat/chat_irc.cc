#include "duplex/apps/chat/chat_irc.h"

#include <algorithm>

#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/proto/irc_message.h"

namespace duplex::apps {
namespace {

constexpr std::string_view kServer = "duplex";
constexpr std::string_view kVersion = "duplex-0.1.0";

std::string channel(std::string_view room) { return "#" + std::string(room); }

// "#lobby" -> "lobby"; "" when it is no channel name.
std::string room_of_channel(std::string_view name) {
  if (name.size() < 2 || (name.front() != '#' && name.front() != '&')) return {};
  return std::string(name.substr(1));
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
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
    pass_ok_ = token_.empty() || param(0) == token_;
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
  if (c == "PART") return part();
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
    if (hub_.name_taken(who_name) || iequal(who_name, nick_))
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
    link_.quit();
    return false;
  }
  registered_ = true;
  reply("001", {"Welcome to duplex chat, " + nick_});
  reply("002", {"Your host is duplex, running " + std::string(kVersion)});
  reply("003", {"This server speaks the chat of duplex serve"});
  reply("004", {kServer, kVersion, "i", "nt"});
  reply("005", {"CHANTYPES=#&", "NICKLEN=32", "CHANNELLEN=33", "CASEMAPPING=ascii",
                "NETWORK=duplex", "are supported by this server"});
  reply("375", {"- duplex Message of the day -"});
  reply("372", {"- rooms are channels: /list shows them, /join #lobby enters one"});
  reply("372", {"- the terminals (duplex chat, nc) and the browsers of this chat read you"});
  reply("376", {"End of /MOTD command"});
  return true;
}

void IrcConversation::nick(const std::string& name) {
  std::string why;
  if (!ChatHub::valid_name(name, &why)) return reply("432", {name, "Erroneous nickname: " + why});
  if (iequal(name, nick_) && name == nick_) return;
  if (hub_.name_taken(name, link_.member()))
    return reply("433", {name, "Nickname is already in use"});
  const std::string old = nick_;
  nick_ = name;
  if (!registered_) {
    register_if_ready();
    return;
  }
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
  part();
  const auto history = hub_.join(link_.member(), name, nick_);
  link_.send_line(irc::line(source(nick_), "JOIN", {channel(name)}));
  reply("331", {channel(name), "No topic is set"});
  names(name);
  for (const auto& m : history) link_.send_line(message(m));
}

void IrcConversation::part() {
  const std::string was = room();
  if (was.empty()) return;
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
  std::string text = m.params[1];
  if (text.size() > 2 && text.front() == '\x01') {  // CTCP: ACTION is "/me", the rest unsaid
    if (text.rfind("\x01"
                   "ACTION ",
                   0) != 0)
      return;
    text = "/me " + text.substr(8, text.size() - 8 - (text.back() == '\x01' ? 1 : 0));
  }
  link_.post(
      text, [this](const ChatMessage& posted) { own_.insert(posted.id); },
      [this, target, is_notice](std::string_view why) {
        if (!is_notice) reply("404", {target, "Cannot send to channel: " + std::string(why)});
      });
}

void IrcConversation::names(std::string_view room_name) {
  if (!room_name.empty()) {
    std::string all;
    for (const auto& n : hub_.members(room_name)) {
      if (!all.empty()) all.push_back(' ');
      all.append(n);
    }
    if (!all.empty()) reply("353", {"=", channel(room_name), all});
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
    reply("322", {channel(r.name), std::to_string(r.online),
                  std::to_string(r.messages) + (r.messages == 1 ? " message" : " messages") +
                      " stored"});
  reply("323", {"End of /LIST"});
}

std::string IrcConversation::message(const ChatMessage& m) {
  if (own_.erase(m.id) != 0) return {};  // the client shows its own line already
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
  return irc::line("", "ERROR", {"Closing Link: " + (nick_.empty() ? std::string("*") : nick_)});
}

}  // namespace duplex::apps
