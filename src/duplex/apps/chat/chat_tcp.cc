#include "duplex/apps/chat/chat_tcp.h"

#include <algorithm>
#include <ctime>
#include <string_view>
#include <utility>

#include "duplex/apps/chat/chat_flood.h"
#include "duplex/apps/chat/chat_hub.h"
#include "duplex/apps/chat/chat_irc.h"
#include "duplex/apps/chat/chat_parse.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/base/log.h"
#include "duplex/reactor/buffer.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::apps {
namespace {

constexpr std::string_view kHelp[] = {
    "commands:",
    "  /nick NAME   take another name (letters, digits, _ . -; at most 32)",
    "  /join ROOM   go to another room (created on first use)",
    "  /me TEXT     an action: * NAME TEXT",
    "  /who         who is in this room",
    "  /rooms       every room, with members online and messages stored",
    "  /help        this list",
    "  /quit        leave",
    "anything else is a message to the room",
};

// "[HH:MM:SS] name: text" (an action "[HH:MM:SS] * name text"), the UTC time of the commit.
std::string format_line(const ChatMessage& m) {
  const std::time_t secs = static_cast<std::time_t>(m.ts_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "[%H:%M:%S]", &tm);
  std::string line;
  line.reserve(m.name.size() + m.text.size() + 15);
  if (m.text.rfind("/me ", 0) == 0) {  // an action: "[HH:MM:SS] * name waves"
    line.append(stamp).append(" * ").append(m.name).append(m.text, 3).append("\n");
    return line;
  }
  line.append(stamp).append(" ").append(m.name).append(": ").append(m.text).append("\n");
  return line;
}

TcpServerOptions tcp_options(const ChatTcpOptions& chat) {
  TcpServerOptions tcp;
  tcp.filter = chat.filter;
  return tcp;
}

}  // namespace

class ChatTcpServer::Session : public ChatMember,
                               public ChatLineLink,
                               public std::enable_shared_from_this<Session> {
 public:
  Session(const TcpConnectionPtr& c, ChatHub& hub, const ChatTcpOptions& options)
      : conn_(c), hub_(hub), options_(options), flood_(options.flood) {
    if (options.irc) irc_ = std::make_unique<IrcConversation>(*this, hub, options.token);
  }

  void start() {
    if (irc_) {  // an IRC client speaks first (PASS, NICK, USER)
      if (!options_.token.empty()) guard_registration();
      return;
    }
    notice(options_.greeting);
    enter(chat::kDefaultRoom, hub_.guest_name());
  }

  void on_input(Buffer& in) {
    if (!quit_ && !dropped_) in_.append(in.peek(), in.readable_bytes());
    in.retrieve_all();  // after /quit or a drop, what comes is discarded
    drain();
  }

  void closed() {
    hub_.leave(this);
    conn_.reset();
  }

  void deliver(const ChatMessage& message) override {
    if (irc_) {
      if (const std::string line = irc_->message(message); !line.empty()) send(line);
      return;
    }
    // A message is fanned out to every member in turn: format it once per message.
    thread_local ChatMessage cached_for;
    thread_local std::string cached;
    if (!same_message(message, cached_for)) {
      cached = format_line(message);
      cached_for = message;
    }
    send(cached);
  }
  void notice(std::string_view text) override {
    if (irc_) return send(irc_->notice(text));
    std::string line = "* ";
    line.append(text).append("\n");
    send(line);
  }
  void error(std::string_view text) { send(error_line(text)); }
  std::string error_line(std::string_view text) const {
    if (irc_) return irc_->error(text);
    std::string line = "! ";
    line.append(text).append("\n");
    return line;
  }

  // ChatLineLink, for the IRC conversation.
  void send_line(std::string_view line) override { send(line); }
  ChatMember* member() override { return this; }
  void post(std::string_view text, std::function<void(const ChatMessage&)> on_committed,
            std::function<void(std::string_view why)> on_failed) override {
    post_via(text, "irc", std::move(on_committed), std::move(on_failed));
  }

  // Posts as this member; each callback runs only while the session lives. Counts the post
  // until it is settled, so that a /quit's farewell comes after the answers to what was
  // said before it (queue_finish_quit runs after the commit's fan-out).
  void post_via(std::string_view text, std::string_view via,
                std::function<void(const ChatMessage&)> on_committed,
                std::function<void(std::string_view why)> on_failed) {
    std::weak_ptr<Session> weak = weak_from_this();
    ++unacknowledged_;
    auto settled = [weak] {
      if (auto self = weak.lock(); self && --self->unacknowledged_ == 0 && self->quit_)
        self->queue_finish_quit();
    };
    hub_.post(
        this, text, via,
        [weak, settled, on_committed = std::move(on_committed)](const ChatMessage& m) {
          if (auto self = weak.lock()) on_committed(m);  // self holds it through the call
          settled();
        },
        [weak, settled, on_failed = std::move(on_failed)](std::string_view why) {
          if (auto self = weak.lock()) on_failed(why);
          settled();
        });
  }

  // Refused (the IRC door's wrong PASS, or no registration in time): `line`, our FIN, and
  // the close after drop_grace; what the client still sends is read and dropped.
  void refuse(std::string_view line) override {
    auto c = conn_.lock();
    send(line);
    flush_pending();
    dropped_ = true;
    in_.retrieve_all();
    hub_.leave(this);
    if (!c) return;
    log::warn("chat", c->peer().to_string(), " refused: ", line.substr(0, line.find('\r')));
    if (!finishing_ && !c->reading()) c->resume_reading();
    c->shutdown_write();
    c->loop()->run_after(options_.drop_grace, [weak = std::weak_ptr<TcpConnection>(c)] {
      if (auto conn = weak.lock()) conn->force_close();
    });
  }

  // With a token, an IRC client that has not registered (PASS, NICK, USER) within
  // auth_timeout is refused, as the line door's /auth gate refuses.
  void guard_registration() {
    auto c = conn_.lock();
    if (!c) return;
    c->loop()->run_after(options_.auth_timeout, [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->dropped_ || self->quit_ || self->irc_->registered()) return;
      const auto ms = self->options_.auth_timeout.count();
      self->refuse(self->irc_->closing(
          "no registration within " +
          (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms")));
    });
  }

  TcpConnectionPtr connection() const { return conn_.lock(); }

  // The client sent FIN (`nc -N`, or the end of a piped file): its last line may lack the
  // newline. It is said, and the client still gets its lines back before "bye" and our FIN.
  void peer_finished(Buffer& unread) {
    if (!quit_ && !dropped_) {
      in_.append(unread.peek(), unread.readable_bytes());
      if (!in_.empty() && in_.view().back() != '\n') in_.append("\n", 1);
    }
    unread.retrieve_all();
    finishing_ = true;
    drain();  // quits once every line that waits is said
  }

  // Once every line said before is acknowledged (its own line came back, or an error), so
  // that "bye" comes after them; the commits run on the writer thread.
  void quit() override {
    quit_ = true;
    if (unacknowledged_ == 0) queue_finish_quit();
  }

  void queue_finish_quit() {
    auto c = conn_.lock();
    if (!c) return;
    std::weak_ptr<Session> weak = weak_from_this();
    c->loop()->queue_in_loop([weak] {
      if (auto self = weak.lock()) self->finish_quit();
    });
  }

  void finish_quit() {
    if (irc_) {
      send(irc_->farewell());
    } else {
      notice("bye");
    }
    flush_pending();
    hub_.leave(this);
    if (auto c = conn_.lock()) c->shutdown_write();
  }

 private:
  enum class Take { none, line, too_long };

  // Handles what waits, within this round's share (lines_per_round): queued lines as their
  // tokens come, then new lines of the input. More than the share: reading stops (the
  // kernel's window closes on the sender) and the rest waits for the next round.
  void drain() {
    auto c = conn_.lock();
    if (!c || quit_ || dropped_) return;
    const auto now = c->loop()->poll_time();
    const std::size_t share = std::max<std::size_t>(1, flood_.limits().lines_per_round);
    std::size_t handled = 0;
    std::string line;
    while (handled < share && !quit_ && !dropped_ && flood_.next(now, line)) {
      handle_line(line);
      ++handled;
    }
    while (handled < share && !quit_ && !dropped_) {
      const Take t = take_line(line);
      if (t == Take::none) break;
      ++handled;
      if (t == Take::too_long) {
        too_long();
      } else {
        arrive(std::move(line), now);
      }
    }
    if (quit_ || dropped_) return;
    const bool more = handled >= share && has_line();
    if (more) {
      if (!finishing_ && c->reading()) c->pause_reading();
      if (!next_round_queued_) {
        next_round_queued_ = true;
        run_next_round(*c->loop(), [weak = weak_from_this()] {
          if (auto self = weak.lock()) {
            self->next_round_queued_ = false;
            self->drain();
          }
        });
      }
    } else if (!finishing_ && !c->reading()) {
      c->resume_reading();
    }
    if (flood_.waiting() && !timer_armed_) {
      timer_armed_ = true;
      c->loop()->run_after(flood_.until_next_token(now), [weak = weak_from_this()] {
        if (auto self = weak.lock()) {
          self->timer_armed_ = false;
          self->drain();
        }
      });
    }
    if (finishing_ && !more && !flood_.waiting()) quit();
  }

  // One complete line of the input, or a line too long (dropped up to its end as it
  // arrives, never buffered whole).
  Take take_line(std::string& line) {
    for (;;) {
      const std::string_view view = in_.view();
      const auto pos = view.find('\n');
      if (discarding_) {
        if (pos == std::string_view::npos) {
          in_.retrieve_all();
          return Take::none;
        }
        in_.retrieve(pos + 1);
        discarding_ = false;
        continue;
      }
      if (pos == std::string_view::npos) {
        if (view.size() <= max_line() + 1) return Take::none;  // + 1: a CR may come
        discarding_ = true;
        in_.retrieve_all();
        return Take::too_long;
      }
      std::string_view l = view.substr(0, pos);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      const Take t = l.size() > max_line() ? Take::too_long : Take::line;
      if (t == Take::line) line.assign(l);
      in_.retrieve(pos + 1);
      return t;
    }
  }

  bool has_line() const {
    return in_.view().find('\n') != std::string_view::npos ||
           (!discarding_ && in_.readable_bytes() > max_line() + 1);
  }

  // An IRC line carries its command and channel besides the text.
  std::size_t max_line() const { return chat::kMaxTextBytes + (irc_ ? 512 : 0); }

  // Flood control (chat_flood.h): now, later, or refused; too many refused: dropped.
  void arrive(std::string line, Clock::time_point now) {
    if (line.empty()) return;
    if (flood_.admit(now)) return handle_line(line);
    if (flood_.queue(std::move(line))) return;
    if (flood_.refuse()) return kick();
    error("not sent: flood control (" + flood_.rule() + "; " +
          std::to_string(flood_.limits().max_queued) + " lines already wait); slow down");
  }

  // Excess flood: a last line, then FIN; what the client still sends is read and dropped
  // (so that it sees the line and the FIN), and the connection is closed after drop_grace.
  void kick() {
    auto c = conn_.lock();
    error("flood: disconnected after " + std::to_string(flood_.limits().max_refused) +
          " lines refused; send " + flood_.rule() + ", then reconnect");
    flush_pending();
    dropped_ = true;
    flood_.clear();
    in_.retrieve_all();
    hub_.leave(this);
    if (!c) return;
    log::warn("chat", c->peer().to_string(), " dropped: flooding (", flood_.limits().max_refused,
              " lines refused)");
    if (!finishing_ && !c->reading()) c->resume_reading();
    c->shutdown_write();
    c->loop()->run_after(options_.drop_grace, [weak = std::weak_ptr<TcpConnection>(c)] {
      if (auto conn = weak.lock()) conn->force_close();
    });
  }

  void too_long() {
    error("message too long (over " + std::to_string(chat::kMaxTextBytes) +
          " bytes); split it into shorter lines");
  }

  void enter(std::string_view room, std::string_view name) {
    for (const auto& m : hub_.join(this, room, name)) deliver(m);
    notice("you are " + hub_.name_of(this) + " in " + hub_.room_of(this));
  }

  void handle_line(const std::string& line) {
    if (irc_) return irc_->line(line);
    const ChatLine parsed = parse_chat_line(line);
    if (parsed.kind == ChatLine::Kind::empty) return;
    if (parsed.kind == ChatLine::Kind::not_utf8) {
      error("line is not valid UTF-8; send UTF-8 text");
      return;
    }
    if (parsed.kind != ChatLine::Kind::say) {
      command(parsed);
      return;
    }
    // The acknowledgement of a TCP client is its own line, fanned out after the commit; a
    // client that has changed rooms meanwhile (/join) gets it directly.
    post_via(
        line, "tcp",
        [this](const ChatMessage& m) {
          if (hub_.room_of(this) != m.room) deliver(m);
        },
        [this](std::string_view why) { error(std::string(why)); });
  }

  void command(const ChatLine& line) {
    using Kind = ChatLine::Kind;
    const std::string arg(line.arg);
    std::string why;
    if (line.kind == Kind::nick) {
      if (arg.empty()) return error("/nick needs a name: /nick alice");
      if (!ChatHub::valid_name(arg, &why)) return error(why);
      if (hub_.name_taken(arg, this))
        return error("the name " + arg + " is taken; choose another with /nick NAME");
      // The same name again changes nothing, but is still answered (duplex chat --name
      // waits for an answer).
      if (arg == hub_.name_of(this)) return notice("you are already " + arg);
      hub_.rename(this, arg);
    } else if (line.kind == Kind::join) {
      if (arg.empty()) return error("/join needs a room: /join ops");
      if (!ChatHub::valid_name(arg, &why)) return error(why);
      enter(arg, {});
    } else if (line.kind == Kind::who) {
      const std::string room = hub_.room_of(this);
      const auto names = hub_.members(room);
      std::string text = "in " + room + " (" + std::to_string(names.size()) + "):";
      for (const auto& n : names) text.append(" ").append(n);
      notice(text);
    } else if (line.kind == Kind::rooms) {
      for (const auto& r : hub_.rooms())
        notice(r.name + ": " + std::to_string(r.online) + " online, " + std::to_string(r.messages) +
               " messages");
    } else if (line.kind == Kind::help) {
      for (auto h : kHelp) notice(h);
    } else if (line.kind == Kind::quit) {
      quit();
    } else if (line.kind == Kind::auth) {
      notice(options_.token.empty() ? "this chat needs no token (it is bound to loopback)"
                                    : "already authenticated");
    } else {
      error("unknown command " + std::string(line.word) + "; /help lists the commands");
    }
  }

  // Lines of one loop round go out in one write (a group commit fans out many messages):
  // the first queues the flush, after the round's other work.
  void send(std::string_view line) {
    if (dropped_) return;
    auto c = conn_.lock();
    if (!c || !c->connected()) return;
    if (c->output_bytes() + pending_.size() + line.size() > options_.max_output) {
      drop(*c);
      return;
    }
    if (pending_.empty()) {
      std::weak_ptr<Session> weak = weak_from_this();
      c->loop()->queue_in_loop([weak] {
        if (auto self = weak.lock()) self->flush_pending();
      });
    }
    pending_.append(line);
  }

  void flush_pending() {
    if (pending_.empty()) return;
    if (auto c = conn_.lock(); c && c->connected()) c->send(pending_);
    pending_.clear();
  }

  // Too far behind: one last line, nothing more, and the connection goes.
  void drop(TcpConnection& c) {
    flush_pending();
    dropped_ = true;
    log::warn("chat", c.peer().to_string(), " dropped: too far behind (", c.output_bytes(),
              " bytes unread)");
    c.send(error_line("too far behind (" + std::to_string(c.output_bytes()) +
                      " bytes unread); disconnected: read faster, then reconnect"));
    c.pause_reading();
    c.shutdown_write();
    hub_.leave(this);
    std::weak_ptr<TcpConnection> weak = c.shared_from_this();
    c.loop()->run_after(options_.drop_grace, [weak] {
      if (auto conn = weak.lock()) conn->force_close();
    });
  }

  std::weak_ptr<TcpConnection> conn_;
  ChatHub& hub_;
  const ChatTcpOptions& options_;
  FloodControl flood_;
  Buffer in_;  // read, not yet handled: at most one read while reading is paused
  bool discarding_ = false;
  bool dropped_ = false;
  bool quit_ = false;
  bool finishing_ = false;  // the client sent FIN: quit once what waits is said
  bool next_round_queued_ = false;
  std::size_t unacknowledged_ = 0;  // lines posted, not yet committed or refused
  bool timer_armed_ = false;
  std::string pending_;                   // lines of this round, not yet handed to the connection
  std::unique_ptr<IrcConversation> irc_;  // the IRC door's sessions: how lines read
};

ChatTcpServer::ChatTcpServer(EventLoop* loop, const inet::Endpoint& listen, ChatHub& hub,
                             ChatTcpOptions options)
    : loop_(loop),
      hub_(hub),
      options_(std::move(options)),
      tcp_(loop, listen, options_.irc ? "irc" : "chat", tcp_options(options_)) {
  tcp_.set_connection_callback([this](const TcpConnectionPtr& c) {
    if (c->connected()) {
      // One dispatch for the life of the connection: the gate first, then the session
      // (a callback must not replace itself while it runs).
      c->set_message_callback([this](const TcpConnectionPtr& conn, Buffer& in, Clock::time_point) {
        received(conn, in, false);
      });
      c->set_peer_shutdown_callback(
          [this](const TcpConnectionPtr& conn, Buffer& unread) { received(conn, unread, true); });
      if (options_.token.empty() || options_.irc) {  // IRC: the token comes as PASS
        admit(c, nullptr, false);
      } else {
        guard(c);
      }
      return;
    }
    if (c->filter() && !c->filter()->established() && !c->close_reason().empty())
      log::warn("chat", c->peer().to_string(), " TLS handshake failed: ", c->close_reason());
    if (auto g = gates_.find(c.get()); g != gates_.end()) {
      c->loop()->cancel(g->second.timer);
      gates_.erase(g);
      return;
    }
    auto it = sessions_.find(c.get());
    if (it == sessions_.end()) return;
    auto session = std::move(it->second);
    sessions_.erase(it);
    session->closed();
  });
}

ChatTcpServer::~ChatTcpServer() { stop(); }

void ChatTcpServer::start() { tcp_.start(); }

void ChatTcpServer::stop() {
  tcp_.stop();
  for (auto& [conn, gate] : gates_) loop_->cancel(gate.timer);
  gates_.clear();
  for (auto& [conn, session] : sessions_) session->closed();
  sessions_.clear();
}

void ChatTcpServer::received(const TcpConnectionPtr& c, Buffer& in, bool finished) {
  if (auto it = sessions_.find(c.get()); it != sessions_.end()) {
    const auto session = it->second;  // the session may end while it reads
    return finished ? session->peer_finished(in) : session->on_input(in);
  }
  auto g = gates_.find(c.get());
  if (g == gates_.end() || g->second.refused) {
    in.retrieve_all();  // refused: what still comes is read (to see the FIN) and dropped
    if (finished) c->shutdown_write();
    return;
  }
  Gate& gate = g->second;
  in.retrieve(gate.auth.feed(in.view()));
  if (gate.auth.state() == ChatAuth::State::refused) return refuse(c, gate, gate.auth.refusal());
  if (gate.auth.state() == ChatAuth::State::waiting) {
    if (finished) refuse(c, gate, "the input ended before /auth TOKEN; disconnected");
    return;
  }
  c->loop()->cancel(gate.timer);
  gates_.erase(g);
  c->send("* authenticated\n");
  admit(c, &in, finished);
}

void ChatTcpServer::guard(const TcpConnectionPtr& c) {
  Gate& gate = gates_.emplace(c.get(), Gate{ChatAuth(options_.token)}).first->second;
  c->send("* this chat needs its token: send /auth TOKEN first\n");
  gate.timer =
      c->loop()->run_after(options_.auth_timeout, [this, weak = std::weak_ptr<TcpConnection>(c)] {
        auto conn = weak.lock();
        if (!conn) return;
        const auto ms = options_.auth_timeout.count();
        const std::string limit =
            ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
        if (auto g = gates_.find(conn.get()); g != gates_.end() && !g->second.refused)
          refuse(conn, g->second, "no /auth TOKEN within " + limit + "; disconnected");
      });
}

// One line saying why, our FIN, and the connection goes once the client has read it (or
// after drop_grace). Nothing of the room was sent, and nothing said reached it.
void ChatTcpServer::refuse(const TcpConnectionPtr& c, Gate& gate, const std::string& why) {
  gate.refused = true;
  c->loop()->cancel(gate.timer);
  log::warn("chat", c->peer().to_string(), " refused: ", why);
  c->send("! " + why + "\n");
  c->shutdown_write();
  gate.timer = c->loop()->run_after(options_.drop_grace, [weak = std::weak_ptr<TcpConnection>(c)] {
    if (auto conn = weak.lock()) conn->force_close();
  });
}

void ChatTcpServer::admit(const TcpConnectionPtr& c, Buffer* rest, bool finished) {
  auto session = std::make_shared<Session>(c, hub_, options_);
  sessions_[c.get()] = session;
  session->start();
  if (finished) {
    session->peer_finished(*rest);
  } else if (rest != nullptr && rest->readable_bytes() > 0) {
    session->on_input(*rest);
  }
}

void ChatTcpServer::for_each(
    const std::function<void(const TcpConnectionPtr&, const ChatMember&)>& f) const {
  for (const auto& [conn, session] : sessions_)
    if (auto c = session->connection()) f(c, *session);
}

}  // namespace duplex::apps
