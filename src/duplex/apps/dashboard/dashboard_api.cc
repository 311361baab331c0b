// The JSON API of `duplex serve` (docs/api.md): status, connections, the address tools,
// the neighbour table and the chat. Handlers run on the loop thread, like the router.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "duplex/apps/chat/chat_feed.h"
#include "duplex/apps/chat/chat_hub.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/apps/dashboard/dashboard.h"
#include "duplex/apps/dashboard/dashboard_internal.h"
#include "duplex/apps/report/address_json.h"
#include "duplex/base/strings.h"
#include "duplex/link/interface.h"
#include "duplex/link/neighbour_table.h"
#include "duplex/proto/http_json.h"
#include "duplex/proto/http_router.h"

namespace duplex::apps {
namespace {

using http::Params;
using http::Request;
using http::Response;
using Json = nlohmann::json;
using dashboard::Query;

constexpr std::size_t kMaxHistoryLimit = 1000;

// Ordered (the CLI's key order) or not, invalid UTF-8 from the input replaced.
template <typename J>
void send(Response& res, int status, const J& j) {
  res.json(status, j.dump(-1, ' ', false, J::error_handler_t::replace));
}

void bad(Response& res, std::string_view message) { http::send_json_error(res, 400, message); }

// The value of a required parameter, or a 400 naming it with an example.
std::optional<std::string> required(const Query& q, std::string_view name, std::string_view example,
                                    Response& res) {
  auto v = q.get(name);
  if (!v || v->empty()) {
    bad(res, "missing " + std::string(name) + "=: give it, e.g. " + std::string(example));
    return std::nullopt;
  }
  return v;
}

// Splits on spaces (and commas when `commas`), dropping empty words.
std::vector<std::string> words_of(std::string_view text, bool commas) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\t' || (commas && c == ',')) {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

// --- auth for changes to the neighbour table ----------------------------------------------

struct Refusal {
  int status = 0;
  std::string why;
};

std::optional<Refusal> edit_refusal(const DashboardContext& ctx, const Request* req) {
  const bool token = req != nullptr && ctx.has_token && ctx.has_token(*req);
  if (!token)
    return Refusal{401,
                   "editing neighbours needs the token: send Authorization: Bearer TOKEN, "
                   "?token=TOKEN or the duplex_token cookie (duplex serve prints it at start)"};
  if (!dashboard::has_cap_net_admin())
    return Refusal{403,
                   "duplex serve lacks CAP_NET_ADMIN, which changing the neighbour table "
                   "needs: run duplex serve as root or give it CAP_NET_ADMIN: sudo setcap "
                   "cap_net_admin+ep $(which duplex)"};
  return std::nullopt;
}

// --- routes -----------------------------------------------------------------------------

// Where the chat keeps its history; with Redis, whether it is reachable and which other
// nodes share it.
Json history_status(const DashboardContext& ctx) {
  if (ctx.chat == nullptr) return nullptr;
  const ChatFeedStatus s = ctx.chat->feed_status();
  Json j{{"kind", s.kind}, {"where", s.where}};
  if (s.kind == "redis") {
    j["connected"] = s.connected;
    j["error"] = s.error.empty() ? Json(nullptr) : Json(s.error);
    j["nodes"] = s.nodes;
    j["node"] = s.node;
  }
  return j;
}

void status(const DashboardContext& ctx, std::chrono::steady_clock::time_point started,
            const Request& req, Response& res) {
  const std::chrono::duration<double> up = std::chrono::steady_clock::now() - started;
  const auto refusal = edit_refusal(ctx, &req);
  send(res, 200,
       Json{{"version", ctx.version},
            {"uptime_s", up.count()},
            {"http", ctx.http_endpoint.to_string()},
            {"chat", ctx.chat_endpoint.to_string()},
            {"discovery_port", ctx.discovery_port ? Json(ctx.discovery_port) : Json(nullptr)},
            {"token_required", ctx.token_required},
            {"cap_net_admin", dashboard::has_cap_net_admin()},
            {"can_edit_neighbours", !refusal},
            {"why_not", refusal ? Json(refusal->why) : Json(nullptr)},
            {"history", history_status(ctx)}});
}

void ip_info(const Request& req, Response& res) {
  Query q;
  if (!q.parse(req, res)) return;
  const auto text = required(q, "q", "q=192.168.1.10/24", res);
  if (!text) return;
  const auto items = ip_items(words_of(*text, false));
  if (items.size() != 1) {
    bad(res, quote(*text) + " reads as " + std::to_string(items.size()) +
                 " items; ask one address or prefix per request");
    return;
  }
  send(res, 200, ip_report(items.front()));
}

void ip_same(const Request& req, Response& res) {
  Query q;
  if (!q.parse(req, res)) return;
  const auto a = required(q, "a", "a=172.16.10.1", res);
  if (!a) return;
  const auto b = required(q, "b", "b=172.16.10.2", res);
  if (!b) return;
  const auto s = same_subnet(*a, *b, q.get("mask"), {"mask=", "mask=255.255.255.0"});
  auto j = same_subnet_json(s);
  j["steps"] = OrderedJson::array();
  for (const auto* side : {&s.a, &s.b})
    j["steps"].push_back(side->address.to_string() + " AND " + s.mask.to_string() + " = " +
                         side->network.to_string());
  send(res, 200, j);
}

void ip_split(const Request& req, Response& res) {
  Query q;
  if (!q.parse(req, res)) return;
  const auto text = required(q, "q", "q=192.168.1.0/24", res);
  if (!text) return;
  auto by = q.get("prefix");
  if (!by) by = q.get("by");
  const int modes = int{q.has("count")} + int{by.has_value()} + int{q.has("hosts")};
  if (modes != 1) {
    bad(res, "give exactly one of count=N, prefix=LEN (or by=LEN) or hosts=H1,H2,...");
    return;
  }
  const inet::Prefix whole = inet::Prefix::parse(*text).masked();
  Split s;
  if (auto count = q.get("count")) {
    const auto n = parse_uint(*count, UINT64_MAX);
    if (!n || *n == 0) {
      bad(res, "count=" + quote(*count) + " must be a whole number from 1");
      return;
    }
    s = split_by_count(whole, *n);
  } else if (by) {
    s = split_by_length(whole, *by);
  } else {
    s = split_by_hosts(whole, parse_host_counts(*q.get("hosts"), "hosts="));
  }
  send(res, 200, split_json(s));
}

void ip_aggregate(const Request& req, Response& res) {
  Query q;
  if (!q.parse(req, res)) return;
  const auto text = required(q, "q", "q=10.0.0.0/24,10.0.1.0/24", res);
  if (!text) return;
  std::vector<inet::Prefix> input;
  for (const auto& w : words_of(*text, true)) input.push_back(inet::Prefix::parse(w));
  send(res, 200, aggregate_json(input));
}

void ip_range(const Request& req, Response& res) {
  Query q;
  if (!q.parse(req, res)) return;
  const auto first = required(q, "first", "first=10.0.0.5", res);
  if (!first) return;
  const auto last = required(q, "last", "last=10.0.0.20", res);
  if (!last) return;
  send(res, 200, range_json(inet::Address::parse(*first), inet::Address::parse(*last)));
}

void mac(const Request& req, Response& res) {
  Query q;
  if (!q.parse(req, res)) return;
  const auto text = required(q, "q", "q=00:00:0c:12:34:56", res);
  if (!text) return;
  send(res, 200, mac_json(*text, link::MacAddress::parse(*text)));
}

// --- neighbours -------------------------------------------------------------------------

std::optional<link::Neighbour> find_neighbour(const inet::Address& ip, unsigned ifindex) {
  for (auto& n : link::NeighbourTable::list(ifindex))
    if (n.ip == ip) return std::move(n);
  return std::nullopt;
}

void neighbours_list(const DashboardContext& ctx, const Request& req, Response& res) {
  Query q;
  if (!q.parse(req, res)) return;
  std::optional<unsigned> ifindex;
  if (auto dev = q.get("dev"); dev && !dev->empty()) ifindex = link::Interface::by_name(*dev).index;
  auto entries = link::NeighbourTable::list(ifindex);
  // Like `ip neigh`, NOARP entries (multicast, loopback: nothing to resolve) only on request.
  const auto all = q.get("all");
  if (!all || *all == "0" || *all == "false")
    std::erase_if(entries, [](const link::Neighbour& n) {
      return (n.state & static_cast<std::uint16_t>(link::NeighbourState::noarp)) != 0;
    });
  Json list = Json::array();
  for (const auto& n : entries) list.push_back(neighbour_json(n));
  const auto refusal = edit_refusal(ctx, &req);
  send(res, 200,
       Json{{"can_edit", !refusal},
            {"why_not", refusal ? Json(refusal->why) : Json(nullptr)},
            {"count", entries.size()},
            {"neighbours", std::move(list)}});
}

// The string member `name` of a JSON body, or a 400.
std::optional<std::string> body_string(const Json& body, const char* name, std::string_view example,
                                       bool needed, Response& res) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (needed)
      bad(res, "the body lacks \"" + std::string(name) + "\": give it, e.g. \"" +
                   std::string(name) + "\": " + std::string(example));
    else
      return std::string();
    return std::nullopt;
  }
  if (!it->is_string()) {
    bad(res, "\"" + std::string(name) + "\" must be a string, e.g. \"" + std::string(name) +
                 "\": " + std::string(example));
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<bool> body_bool(const Json& body, const char* name, bool fallback, Response& res) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    bad(res, "\"" + std::string(name) + "\" must be true or false");
    return std::nullopt;
  }
  return it->get<bool>();
}

void neighbours_add(const DashboardContext& ctx, const Request& req, Response& res) {
  if (auto r = edit_refusal(ctx, &req)) return http::send_json_error(res, r->status, r->why);
  Json body;
  if (!http::read_json_body(req, body, res)) return;
  if (!body.is_object())
    return bad(res, "the body must be a JSON object: {\"ip\", \"mac\", \"dev\"}");
  const auto ip_text = body_string(body, "ip", "\"192.168.1.50\"", true, res);
  if (!ip_text) return;
  const auto mac_text = body_string(body, "mac", "\"00:00:0c:12:34:56\"", true, res);
  if (!mac_text) return;
  const auto dev = body_string(body, "dev", "\"eth0\"", true, res);
  if (!dev) return;
  const auto permanent = body_bool(body, "permanent", true, res);
  if (!permanent) return;
  const auto replace = body_bool(body, "replace", false, res);
  if (!replace) return;
  const auto ip = inet::Address::parse(*ip_text);
  const auto mac_address = link::MacAddress::parse(*mac_text);
  const unsigned ifindex = link::Interface::by_name(*dev).index;
  if (!*replace) {
    if (auto old = find_neighbour(ip, ifindex)) {
      http::send_json_error(res, 409,
                            ip.to_string() + " already has an entry on " + *dev + " (" +
                                (old->mac ? old->mac->to_string() : "no MAC") +
                                "): send \"replace\": true to overwrite it, or DELETE it first");
      return;
    }
  }
  try {
    if (*replace)
      link::NeighbourTable::replace(ip, mac_address, ifindex, *permanent);
    else
      link::NeighbourTable::add(ip, mac_address, ifindex, *permanent);
  } catch (const Error& e) {
    http::send_json_error(res, 500, e.what());
    return;
  }
  const auto now = find_neighbour(ip, ifindex);
  send(res, 201, Json{{"neighbour", now ? neighbour_json(*now) : Json(nullptr)}});
}

void neighbours_delete(const DashboardContext& ctx, const Request& req, Response& res) {
  if (auto r = edit_refusal(ctx, &req)) return http::send_json_error(res, r->status, r->why);
  Query q;
  if (!q.parse(req, res)) return;
  const auto ip_text = required(q, "ip", "ip=192.168.1.50", res);
  if (!ip_text) return;
  const auto dev = required(q, "dev", "dev=eth0", res);
  if (!dev) return;
  const auto ip = inet::Address::parse(*ip_text);
  const unsigned ifindex = link::Interface::by_name(*dev).index;
  if (!find_neighbour(ip, ifindex)) {
    http::send_json_error(res, 404,
                          "no neighbour entry for " + ip.to_string() + " on " + *dev +
                              "; see GET /api/neighbours?dev=" + *dev + "&all=1");
    return;
  }
  try {
    link::NeighbourTable::remove(ip, ifindex);
  } catch (const Error& e) {
    http::send_json_error(res, 500, e.what());
    return;
  }
  send(res, 200, Json{{"deleted", {{"ip", ip.to_string()}, {"dev", *dev}}}});
}

// --- chat -------------------------------------------------------------------------------

Json message_json(const ChatMessage& m) {
  return {{"id", m.id},     {"room", m.room}, {"name", m.name},
          {"text", m.text}, {"ts", m.ts_ms},  {"via", m.via}};
}

bool chat_on(const DashboardContext& ctx, Response& res) {
  if (ctx.chat != nullptr) return true;
  http::send_json_error(res, 503, "this server runs without chat; restart duplex serve with it");
  return false;
}

bool valid(std::string_view what, const std::string& name, Response& res) {
  std::string why;
  if (ChatHub::valid_name(name, &why)) return true;
  bad(res, std::string(what) + " " + quote(name) + ": " + why);
  return false;
}

void chat_rooms(const DashboardContext& ctx, const Request&, Response& res) {
  if (!chat_on(ctx, res)) return;
  Json list = Json::array();
  for (const auto& r : ctx.chat->rooms())
    list.push_back({{"name", r.name}, {"online", r.online}, {"messages", r.messages}});
  send(res, 200, Json{{"rooms", std::move(list)}});
}

void chat_history(const DashboardContext& ctx, const Request& req, Response& res) {
  if (!chat_on(ctx, res)) return;
  Query q;
  if (!q.parse(req, res)) return;
  const std::string room = q.get("room").value_or(std::string(chat::kDefaultRoom));
  if (!valid("room", room, res)) return;
  std::size_t limit = chat::kHistoryReplay;
  if (auto l = q.get("limit")) {
    const auto n = parse_uint(*l, UINT64_MAX);
    if (!n || *n == 0) {
      bad(res, "limit=" + quote(*l) + " must be a whole number from 1 (at most " +
                   std::to_string(kMaxHistoryLimit) + " are returned)");
      return;
    }
    limit = static_cast<std::size_t>(std::min<std::uint64_t>(*n, kMaxHistoryLimit));
  }
  Json list = Json::array();
  for (const auto& m : ctx.chat->history(room, limit)) list.push_back(message_json(m));
  send(res, 200, Json{{"room", room}, {"messages", std::move(list)}});
}

void chat_post(const DashboardContext& ctx, const Request& req, Response& res) {
  if (!chat_on(ctx, res)) return;
  Json body;
  if (!http::read_json_body(req, body, res)) return;
  if (!body.is_object())
    return bad(res, "the body must be a JSON object: {\"room\", \"name\", \"text\"}");
  auto room = body_string(body, "room", "\"lobby\"", false, res);
  if (!room) return;
  if (room->empty()) room = std::string(chat::kDefaultRoom);
  const auto name = body_string(body, "name", "\"alice\"", true, res);
  if (!name) return;
  const auto text = body_string(body, "text", "\"hello\"", true, res);
  if (!text) return;
  if (!valid("room", *room, res) || !valid("name", *name, res)) return;
  if (text->empty()) return bad(res, "\"text\" is empty: say something");
  if (text->size() > chat::kMaxTextBytes)
    return bad(res, "message too long: " + std::to_string(text->size()) + " bytes, at most " +
                        std::to_string(chat::kMaxTextBytes) + "; split it");
  for (char c : *text)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
      return bad(res,
                 "\"text\" holds a line break or control character; a chat message is one "
                 "line: send one message per line");
  // The API needs no login on loopback: taking the name of someone online would let any
  // local process speak as them.
  if (ctx.chat->name_taken(*name))
    return http::send_json_error(res, 409,
                                 "the name " + quote(*name) +
                                     " belongs to a chat member online now (names ignore "
                                     "case); post under a name nobody online uses");
  // Answered once the writer thread has committed it; the loop serves others meanwhile.
  const http::DeferredResponse answer = res.defer();
  ctx.chat->post_as(
      *room, *name, *text, "http",
      [answer](const ChatMessage& m) {
        Response r;
        send(r, 201, message_json(m));
        answer.complete(std::move(r));
      },
      [answer](std::string_view error) {
        Response r;
        http::send_json_error(r, 500, error);
        answer.complete(std::move(r));
      });
}

// Bad input anywhere below a handler is a 400 with the library's one-line message (the
// CLI's), and a refusal of the system a 500 with its own.
template <typename Fn>
http::RouteHandler guarded(Fn fn) {
  return [fn = std::move(fn)](const Request& req, const Params&, Response& res) {
    try {
      fn(req, res);
    } catch (const ParseError& e) {
      bad(res, e.what());
    } catch (const Error& e) {
      // Interface::by_name ("no interface named 'eth9'; see `ip link`") and the like.
      bad(res, e.what());
    } catch (const std::exception& e) {
      http::send_json_error(res, 500, std::string("internal error: ") + e.what());
    }
  };
}

}  // namespace

void add_api_routes(http::Router& router, DashboardContext& context) {
  DashboardContext* ctx = &context;
  const auto started = std::chrono::steady_clock::now();
  router.add("GET", "/api/status", guarded([ctx, started](const Request& req, Response& res) {
               status(*ctx, started, req, res);
             }));
  router.add("GET", "/api/connections", guarded([ctx](const Request&, Response& res) {
               send(res, 200,
                    dashboard::connections_json(
                        ctx->connections ? ctx->connections() : std::vector<ConnectionSnapshot>{}));
             }));
  router.add("GET", "/api/ip", guarded(ip_info));
  router.add("GET", "/api/ip/same", guarded(ip_same));
  router.add("GET", "/api/ip/split", guarded(ip_split));
  router.add("GET", "/api/ip/aggregate", guarded(ip_aggregate));
  router.add("GET", "/api/ip/range", guarded(ip_range));
  router.add("GET", "/api/mac", guarded(mac));
  router.add("GET", "/api/neighbours", guarded([ctx](const Request& req, Response& res) {
               neighbours_list(*ctx, req, res);
             }));
  router.add("POST", "/api/neighbours",
             guarded([ctx](const Request& req, Response& res) { neighbours_add(*ctx, req, res); }));
  router.add("DELETE", "/api/neighbours", guarded([ctx](const Request& req, Response& res) {
               neighbours_delete(*ctx, req, res);
             }));
  router.add("GET", "/api/chat/rooms",
             guarded([ctx](const Request& req, Response& res) { chat_rooms(*ctx, req, res); }));
  router.add("GET", "/api/chat/history",
             guarded([ctx](const Request& req, Response& res) { chat_history(*ctx, req, res); }));
  router.add("POST", "/api/chat/messages",
             guarded([ctx](const Request& req, Response& res) { chat_post(*ctx, req, res); }));
}

}  // namespace duplex::apps
