#include "duplex/apps/chat/chat_ws.h"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "duplex/apps/chat/chat_parse.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/base/log.h"
#include "duplex/proto/http_router.h"
#include "duplex/proto/websocket_frame.h"
#include "duplex/proto/websocket_http.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::apps {

nlohmann::json chat_message_json(const ChatMessage& m) {
  return {{"id", m.id},     {"room", m.room}, {"name", m.name},
          {"text", m.text}, {"ts", m.ts_ms},  {"via", m.via}};
}

struct ChatWsEndpoint::Shared {
  ChatHub* hub = nullptr;  // null once the endpoint is gone
  ChatWsOptions options;
  OpenCallback on_open;
};

namespace {

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class WsMember : public ChatMember, public std::enable_shared_from_this<WsMember> {
 public:
  explicit WsMember(std::shared_ptr<ChatWsEndpoint::Shared> shared)
      : shared_(std::move(shared)), flood_(shared_->options.flood) {}
  ~WsMember() override { leave(); }

  void open(const std::shared_ptr<websocket::Connection>& ws) {
    ws_ = ws;
    auto* hub = shared_->hub;
    if (hub == nullptr) return;
    enter(chat::kDefaultRoom, hub->guest_name(), true);
  }

  void on_event(websocket::Connection& ws, websocket::Session::Event& ev) {
    using Kind = websocket::Session::Event::Kind;
    take_share(ws);
    if (ev.kind == Kind::close || ev.kind == Kind::error) {
      leave();
      return;
    }
    if (ev.kind == Kind::binary) return error("binary frames are not used; send JSON text frames");
    if (ev.kind != Kind::text || left_ || dropped_) return;
    // Flood control (chat_flood.h): now, later, or refused; too many refused: dropped.
    auto tcp = ws_.lock() ? ws_.lock()->tcp() : nullptr;
    if (!tcp) return;
    const auto now = tcp->loop()->poll_time();
    if (flood_.admit(now)) return handle(ev.data);
    if (flood_.queue(std::string(ev.data))) return arm_flood_timer(*tcp);
    if (flood_.refuse()) return kick();
    error("not sent: flood control (" + flood_.rule() + "; " +
          std::to_string(flood_.limits().max_queued) + " messages already wait); slow down");
  }

  // A text message: one JSON object (chat_protocol.h).
  void handle(std::string_view data) {
    auto* hub = shared_->hub;
    if (hub == nullptr || left_ || dropped_) return;
    const auto request = parse_ws_chat_request(data);
    if (!request) return error("expected a JSON object with a \"type\" (hello, say, join, nick)");
    const std::string& type = request->type;
    std::string why;
    if (type == "say") {
      const std::string& text = request->text;
      const nlohmann::json& client_id = request->client_id;
      std::weak_ptr<WsMember> weak = weak_from_this();
      hub->post(
          this, text, "websocket",
          [weak, client_id](const ChatMessage& m) {
            if (auto self = weak.lock())
              self->send({{"type", "ack"}, {"client_id", client_id}, {"id", m.id}});
          },
          [weak, client_id](std::string_view error) {
            if (auto self = weak.lock())
              self->send({{"type", "error"}, {"message", error}, {"client_id", client_id}});
          });
    } else if (type == "hello" || type == "join" || type == "nick") {
      const std::string& name = request->name;
      const std::string& room = request->room;
      std::string new_name = hub->name_of(this);
      if (!name.empty() && type != "join") {
        if (!ChatHub::valid_name(name, &why)) return error(why);
        if (hub->name_taken(name, this))
          return error("the name " + name + " is taken; choose another");
        new_name = name;
      }
      const std::string current = hub->room_of(this);
      std::string new_room = current;
      if (!room.empty() && type != "nick") {
        if (!ChatHub::valid_name(room, &why)) return error(why);
        new_room = room;
      }
      if (type == "join" && room.empty())
        return error("join needs a room: {\"type\":\"join\",\"room\":\"ops\"}");
      if (type == "nick" && name.empty())
        return error("nick needs a name: {\"type\":\"nick\",\"name\":\"bob\"}");
      if (new_room != current) {
        enter(new_room, new_name, true);
      } else {
        hub->rename(this, new_name);
        if (type == "hello") welcome();
      }
    } else {
      error("unknown type \"" + type + "\"; use hello, say, join or nick");
    }
  }

  void deliver(const ChatMessage& m) override {
    // A message is fanned out to every member in turn: serialise it once per message.
    thread_local ChatMessage cached_for;
    thread_local std::string cached;
    if (!same_message(m, cached_for)) {
      auto j = chat_message_json(m);
      j["type"] = "message";
      cached = dump(j);
      cached_for = m;
    }
    send_text(cached);
  }
  void notice(std::string_view text) override { send({{"type", "notice"}, {"text", text}}); }

 private:
  // Queued messages are handled as their tokens come.
  void arm_flood_timer(TcpConnection& tcp) {
    if (timer_armed_ || !flood_.waiting()) return;
    timer_armed_ = true;
    const auto now = tcp.loop()->poll_time();
    tcp.loop()->run_after(flood_.until_next_token(now), [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self) return;
      self->timer_armed_ = false;
      auto ws = self->ws_.lock();
      auto conn = ws ? ws->tcp() : nullptr;
      if (!conn) return;
      std::string data;
      EventLoop* loop = conn->loop();
      while (!self->left_ && !self->dropped_ && self->share_left(*loop) &&
             self->flood_.next(loop->poll_time(), data)) {
        ++self->handled_;
        self->handle(data);
      }
      self->arm_flood_timer(*conn);
    });
  }

  // Each event takes one of the round's flood.lines_per_round, as a line does on the TCP
  // side: past the share, the connection's events wait (and it is not read) until a later
  // round, so that a burst of frames read at once cannot stall the loop.
  void take_share(websocket::Connection& ws) {
    auto tcp = ws.tcp();
    if (!tcp) return;
    EventLoop& loop = *tcp->loop();
    share_left(loop);
    if (++handled_ < round_share()) return;
    ws.pause_events();
    run_next_round(loop, [weak = weak_from_this()] {
      if (auto self = weak.lock())
        if (auto conn = self->ws_.lock()) conn->resume_events();
    });
  }

  std::size_t round_share() const {
    return std::max<std::size_t>(1, flood_.limits().lines_per_round);
  }

  // Whether this round's share is not used up; a new round starts a new share.
  bool share_left(const EventLoop& loop) {
    if (loop.rounds() != round_) {
      round_ = loop.rounds();
      handled_ = 0;
    }
    return handled_ < round_share();
  }

  // Excess flood: an error, then Close 1008; the member leaves the room at once.
  void kick() {
    error("flood: disconnected after " + std::to_string(flood_.limits().max_refused) +
          " messages refused; send " + flood_.rule() + ", then reconnect");
    flush_pending();
    dropped_ = true;
    flood_.clear();
    if (auto ws = ws_.lock()) {
      if (auto tcp = ws->tcp())
        log::warn("chat", tcp->peer().to_string(), " (WebSocket) dropped: flooding (",
                  flood_.limits().max_refused, " messages refused)");
      ws->close(websocket::CloseCode::policy_violation, "flooding");
    }
    leave();
  }

  void enter(std::string_view room, std::string_view name, bool history) {
    auto* hub = shared_->hub;
    auto messages = hub->join(this, room, name);
    welcome();
    if (!history) return;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : messages) list.push_back(chat_message_json(m));
    send({{"type", "history"}, {"room", hub->room_of(this)}, {"messages", std::move(list)}});
  }

  void welcome() {
    auto* hub = shared_->hub;
    const std::string room = hub->room_of(this);
    send({{"type", "welcome"},
          {"name", hub->name_of(this)},
          {"room", room},
          {"online", hub->online(room)}});
  }

  void error(const std::string& message) { send({{"type", "error"}, {"message", message}}); }

  void send(const nlohmann::json& j) { send_text(dump(j)); }

  void send_text(const std::string& text) {
    if (dropped_) return;
    auto ws = ws_.lock();
    if (!ws) return;
    auto tcp = ws->tcp();
    if (!tcp) return;
    const std::size_t queued = tcp->output_bytes() + ws->session().queued_bytes();
    if (queued + pending_bytes_ + text.size() > shared_->options.max_output) {
      // Too far behind: a Close, nothing more; the connection's close timeout ends it if the
      // peer never reads that either.
      dropped_ = true;
      pending_.clear();
      log::warn("chat", tcp->peer().to_string(), " (WebSocket) dropped: too far behind (", queued,
                " bytes unread)");
      ws->close(websocket::CloseCode::policy_violation, "too far behind; reconnect");
      leave();
      return;
    }
    // Messages of one loop round go out in one write (a group commit fans out many): the
    // first queues the flush, after the round's other work.
    if (pending_.empty()) {
      std::weak_ptr<WsMember> weak = weak_from_this();
      tcp->loop()->queue_in_loop([weak] {
        if (auto self = weak.lock()) self->flush_pending();
      });
    }
    pending_bytes_ += text.size();
    pending_.push_back(text);
  }

  void flush_pending() {
    std::vector<std::string> texts;
    texts.swap(pending_);
    pending_bytes_ = 0;
    auto ws = ws_.lock();
    if (!ws || dropped_ || texts.empty()) return;
    auto tcp = ws->tcp();
    if (!tcp) return;
    if (texts.size() == 1 || ws->session().state() != websocket::Session::State::open ||
        !ws->session().output().empty()) {
      for (const auto& t : texts) ws->send_text(t);
      return;
    }
    // Nothing of the session's own is waiting (the connection hands its output to TCP at
    // once), so server frames written straight after the TCP output keep their order.
    std::string frames;
    for (const auto& t : texts)
      websocket::encode_frame(frames, websocket::Opcode::text,
                              {reinterpret_cast<const std::uint8_t*>(t.data()), t.size()});
    tcp->send(frames);
  }

  void leave() {
    if (left_) return;
    left_ = true;
    if (shared_->hub != nullptr) shared_->hub->leave(this);
  }

  std::shared_ptr<ChatWsEndpoint::Shared> shared_;
  std::weak_ptr<websocket::Connection> ws_;
  FloodControl flood_;
  bool timer_armed_ = false;
  std::uint64_t round_ = 0;  // the loop round handled_ counts in
  std::size_t handled_ = 0;  // events and queued messages handled in round_
  bool dropped_ = false;
  bool left_ = false;
  std::vector<std::string> pending_;  // messages of this round, not yet framed
  std::size_t pending_bytes_ = 0;
};

}  // namespace

ChatWsEndpoint::ChatWsEndpoint(ChatHub& hub, ChatWsOptions options, OpenCallback on_open)
    : shared_(std::make_shared<Shared>(Shared{&hub, options, std::move(on_open)})) {}

ChatWsEndpoint::~ChatWsEndpoint() { shared_->hub = nullptr; }

void ChatWsEndpoint::add_route(http::Router& router) {
  router.add(
      "GET", "/ws/chat",
      [shared = shared_](const http::Request& req, const http::Params&, http::Response& res) {
        if (shared->hub == nullptr) {
          res.text(503, "the chat is stopping\n");
          return;
        }
        auto member = std::make_shared<WsMember>(shared);
        websocket::ConnectionOptions options;
        options.session.max_message_size = shared->options.max_message;
        websocket::accept_upgrade(
            req, res, options,
            [member](websocket::Connection& c, websocket::Session::Event& ev) {
              member->on_event(c, ev);
            },
            [member, shared](const std::shared_ptr<websocket::Connection>& ws) {
              if (shared->on_open)
                if (auto tcp = ws->tcp()) shared->on_open(tcp, member);
              member->open(ws);
            });
      });
}

}  // namespace duplex::apps
