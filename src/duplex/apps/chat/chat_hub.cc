#include "duplex/apps/chat/chat_hub.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <utility>

#include "duplex/apps/chat/chat_feed.h"
#include "duplex/apps/chat/chat_local_feed.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/base/error.h"
#include "duplex/base/log.h"
#include "duplex/proto/http_parser.h"
#include "duplex/proto/websocket_utf8.h"

namespace duplex::apps {

ChatMember::~ChatMember() {
  if (hub_ != nullptr) hub_->leave(this);
}

struct ChatHub::Impl {
  struct Member {
    std::string name;
    std::string room;
    ChatMember* self = nullptr;
  };

  explicit Impl(std::unique_ptr<ChatFeed> f) : feed(std::move(f)) {}

  // Fan-out walks a room's list by index; a member that leaves meanwhile is nulled and the
  // list compacted afterwards, so deliver() may close its own connection safely.
  void fan_out(const ChatMessage& m) {
    auto it = rooms.find(m.room);
    if (it == rooms.end()) return;
    ++fanning_out;
    auto& list = it->second;
    for (std::size_t i = 0; i < list.size(); ++i)
      if (list[i] != nullptr) list[i]->deliver(m);
    --fanning_out;
    compact();
  }

  void notify(const std::string& room, std::string_view text, const ChatMember* except) {
    auto it = rooms.find(room);
    if (it == rooms.end()) return;
    ++fanning_out;
    auto& list = it->second;
    for (std::size_t i = 0; i < list.size(); ++i)
      if (list[i] != nullptr && list[i] != except) list[i]->notice(text);
    --fanning_out;
    compact();
  }

  void remove_from_room(ChatMember* member, const std::string& room) {
    auto it = rooms.find(room);
    if (it == rooms.end()) return;
    auto pos = std::find(it->second.begin(), it->second.end(), member);
    if (pos == it->second.end()) return;
    if (fanning_out > 0) {
      *pos = nullptr;
      dirty = true;
    } else {
      it->second.erase(pos);
      if (it->second.empty()) rooms.erase(it);
    }
  }

  void compact() {
    if (fanning_out > 0 || !dirty) return;
    dirty = false;
    for (auto it = rooms.begin(); it != rooms.end();) {
      std::erase(it->second, nullptr);
      it = it->second.empty() ? rooms.erase(it) : std::next(it);
    }
  }

  ChatFeed::Presence presence() const {
    ChatFeed::Presence out;
    out.reserve(members.size());
    for (const auto& [member, m] : members) out.emplace_back(m.name, m.room);
    return out;
  }

  std::unique_ptr<ChatFeed> feed;
  std::unordered_map<const ChatMember*, Member> members;
  std::map<std::string, std::vector<ChatMember*>, std::less<>> rooms;
  int fanning_out = 0;
  bool dirty = false;
  std::uint64_t next_guest = 1;
};

ChatHub::ChatHub(EventLoop* loop, const std::string& db_path, const ChatRetention& retention)
    : ChatHub(std::make_unique<ChatLocalFeed>(loop, db_path, retention)) {}

ChatHub::ChatHub(std::unique_ptr<ChatFeed> feed) : impl_(std::make_unique<Impl>(std::move(feed))) {
  Impl* im = impl_.get();
  im->feed->attach([im](const ChatMessage& m) { im->fan_out(m); }, [im] { return im->presence(); });
}

ChatHub::~ChatHub() {
  for (auto& [member, m] : impl_->members) m.self->hub_ = nullptr;
}

std::vector<ChatMessage> ChatHub::join(ChatMember* member, std::string_view room,
                                       std::string_view name) {
  auto& im = *impl_;
  std::string room_name(room.empty() ? chat::kDefaultRoom : room);
  std::string new_name(name);
  auto it = im.members.find(member);
  if (it != im.members.end()) {
    if (new_name.empty()) new_name = it->second.name;
    const std::string old_room = it->second.room;
    if (old_room != room_name) {
      im.remove_from_room(member, old_room);
      im.notify(old_room, it->second.name + " left " + old_room, member);
    }
    if (old_room == room_name) {
      if (new_name != it->second.name) rename(member, new_name);
      return im.feed->history(room_name, chat::kHistoryReplay);
    }
  }
  if (new_name.empty()) new_name = guest_name();
  if (member->hub_ != nullptr && member->hub_ != this) member->hub_->leave(member);
  member->hub_ = this;
  im.members[member] = Impl::Member{new_name, room_name, member};
  im.notify(room_name, new_name + " joined " + room_name, member);
  im.rooms[room_name].push_back(member);
  return im.feed->history(room_name, chat::kHistoryReplay);
}

void ChatHub::leave(ChatMember* member) {
  auto& im = *impl_;
  auto it = im.members.find(member);
  if (it == im.members.end()) return;
  const Impl::Member m = std::move(it->second);
  im.members.erase(it);
  member->hub_ = nullptr;
  im.remove_from_room(member, m.room);
  im.notify(m.room, m.name + " left " + m.room, member);
}

void ChatHub::rename(ChatMember* member, std::string_view name) {
  auto& im = *impl_;
  auto it = im.members.find(member);
  if (it == im.members.end() || it->second.name == name) return;
  const std::string old = std::exchange(it->second.name, std::string(name));
  im.notify(it->second.room, old + " is now " + std::string(name), nullptr);
}

void ChatHub::post(ChatMember* from, std::string_view text, std::string_view via,
                   std::function<void(const ChatMessage&)> on_committed,
                   std::function<void(std::string_view error)> on_failed) {
  auto& im = *impl_;
  std::string why;
  auto it = im.members.find(from);
  if (it == im.members.end()) why = "not in a room; join one first";
  if (why.empty()) valid_text(text, &why);
  if (!why.empty()) {
    if (on_failed) on_failed(why);
    return;
  }
  im.feed->post(
      ChatMessage{0, it->second.room, it->second.name, std::string(text), 0, std::string(via)},
      std::move(on_committed), std::move(on_failed));
}

void ChatHub::post_as(std::string_view room, std::string_view name, std::string_view text,
                      std::string_view via, std::function<void(const ChatMessage&)> on_committed,
                      std::function<void(std::string_view error)> on_failed) {
  std::string why;
  if (!valid_name(room, &why) || !valid_name(name, &why) || !valid_text(text, &why)) {
    if (on_failed) on_failed(why);
    return;
  }
  impl_->feed->post(
      ChatMessage{0, std::string(room), std::string(name), std::string(text), 0, std::string(via)},
      std::move(on_committed), std::move(on_failed));
}

ChatMessage ChatHub::post_now(std::string_view room, std::string_view name, std::string_view text,
                              std::string_view via) {
  auto& im = *impl_;
  std::string why;
  if (!valid_name(room, &why) || !valid_name(name, &why) || !valid_text(text, &why))
    throw Error(why);
  return im.feed->post_now(
      ChatMessage{0, std::string(room), std::string(name), std::string(text), 0, std::string(via)});
}

std::vector<RoomSummary> ChatHub::rooms() const {
  const auto& im = *impl_;
  std::map<std::string, RoomSummary, std::less<>> out;
  out[std::string(chat::kDefaultRoom)].name = chat::kDefaultRoom;
  for (const auto& [room, count] : im.feed->counts()) {
    out[room].name = room;
    out[room].messages = count;
  }
  for (const auto& [room, list] : im.rooms) {
    out[room].name = room;
    out[room].online = static_cast<std::size_t>(
        std::count_if(list.begin(), list.end(), [](auto* m) { return m != nullptr; }));
  }
  // The members of the other nodes sharing the feed (Redis), as their presence says.
  for (const auto& [name, room] : im.feed->remote_members()) {
    out[room].name = room;
    ++out[room].online;
  }
  std::vector<RoomSummary> v;
  v.reserve(out.size());
  for (auto& [room, s] : out) v.push_back(std::move(s));
  return v;
}

std::vector<ChatMessage> ChatHub::history(std::string_view room, std::size_t limit) const {
  return impl_->feed->history(room, limit);
}

std::string ChatHub::guest_name() {
  for (;;) {
    std::string name = "guest-" + std::to_string(impl_->next_guest++);
    if (!name_taken(name)) return name;
  }
}

bool ChatHub::valid_name(std::string_view name, std::string* why) {
  auto refuse = [why](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  if (name.empty()) return refuse("a name cannot be empty; use letters, digits, _ . -");
  if (name.size() > chat::kMaxNameBytes)
    return refuse("'" + std::string(name.substr(0, chat::kMaxNameBytes)) +
                  "...' is too long: at most " + std::to_string(chat::kMaxNameBytes) +
                  " characters");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok)
      return refuse("'" + std::string(name) +
                    "' is not a valid name: use only letters, digits, _ . - (at most " +
                    std::to_string(chat::kMaxNameBytes) + ")");
  }
  return true;
}

bool ChatHub::valid_text(std::string_view text, std::string* why) {
  auto refuse = [why](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  if (text.empty()) return refuse("empty message; type some text");
  if (text.size() > chat::kMaxTextBytes)
    return refuse("message too long (" + std::to_string(text.size()) + " bytes); at most " +
                  std::to_string(chat::kMaxTextBytes) + " bytes, split it");
  if (!websocket::is_valid_utf8({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}))
    return refuse("message is not valid UTF-8; send UTF-8 text");
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    // C0 and DEL, and the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F: U+009B is CSI,
    // which some terminals obey), so no message can drive a reader's terminal.
    const bool c1 = u == 0xc2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if ((u < 0x20 && u != '\t') || u == 0x7f || c1)
      return refuse("message contains control characters; send plain text");
  }
  return true;
}

bool ChatHub::name_taken(std::string_view name, const ChatMember* except) const {
  for (const auto& [member, m] : impl_->members)
    if (member != except && http::iequals(m.name, name)) return true;
  // Names are unique across the nodes sharing a Redis feed too, as far as presence says.
  for (const auto& [other, room] : impl_->feed->remote_members())
    if (http::iequals(other, name)) return true;
  return false;
}

std::string ChatHub::name_of(const ChatMember* member) const {
  auto it = impl_->members.find(member);
  return it == impl_->members.end() ? std::string() : it->second.name;
}

std::string ChatHub::room_of(const ChatMember* member) const {
  auto it = impl_->members.find(member);
  return it == impl_->members.end() ? std::string() : it->second.room;
}

std::vector<std::string> ChatHub::members(std::string_view room) const {
  std::vector<std::string> out;
  if (auto it = impl_->rooms.find(room); it != impl_->rooms.end())
    for (auto* m : it->second)
      if (m != nullptr) out.push_back(name_of(m));
  // Then those of the other processes sharing the feed (Redis), as last heard.
  for (const auto& [name, in_room] : impl_->feed->remote_members())
    if (in_room == room) out.push_back(name);
  return out;
}

std::size_t ChatHub::online(std::string_view room) const {
  std::size_t n = 0;
  if (auto it = impl_->rooms.find(room); it != impl_->rooms.end())
    n = static_cast<std::size_t>(
        std::count_if(it->second.begin(), it->second.end(), [](auto* m) { return m != nullptr; }));
  for (const auto& [name, in_room] : impl_->feed->remote_members())
    if (in_room == room) ++n;
  return n;
}

std::size_t ChatHub::online() const {
  return impl_->members.size() + impl_->feed->remote_members().size();
}

const std::string& ChatHub::db_path() const { return impl_->feed->where(); }

ChatFeedStatus ChatHub::feed_status() const { return impl_->feed->status(); }

std::size_t ChatHub::unacknowledged() const { return impl_->feed->unacknowledged(); }

}  // namespace duplex::apps
