// apps/dashboard_api.cc: `duplex serve`'s JSON API (docs/api.md), called through the router
// with requests parsed from text, a real ChatHub on a temporary SQLite file, and this
// host's real interfaces and neighbour table.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../../prerequisite.h"
#include "duplex/apps/chat/chat_hub.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/apps/dashboard/dashboard.h"
#include "duplex/apps/dashboard/dashboard_internal.h"
#include "duplex/proto/http_parser.h"
#include "duplex/proto/http_response.h"
#include "duplex/proto/http_router.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps {
namespace {

using nlohmann::json;

struct Reply {
  int status = 0;
  std::string text;
  json body;
};

class DashboardApi : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/duplex-api-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    hub_ = std::make_unique<ChatHub>(&loop_, (dir_ / "chat.db").string());
    ctx_.loop = &loop_;
    ctx_.version = "0.1.0";
    ctx_.http_endpoint = inet::Endpoint::parse("127.0.0.1:8080");
    ctx_.chat_endpoint = inet::Endpoint::parse("127.0.0.1:7000");
    ctx_.discovery_port = 7001;
    ctx_.has_token = [](const http::Request& r) {
      const auto h = r.header("authorization");
      return h && *h == "Bearer s3cret";
    };
    ctx_.connections = [this] { return snapshots_; };
    ctx_.chat = hub_.get();
    add_api_routes(router_, ctx_);
  }
  void TearDown() override {
    hub_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Parses `head` (CRLF line ends added), appends `body`, routes it.
  Reply call(const std::string& method, const std::string& target,
             const std::vector<std::string>& fields = {}, const std::string& body = {}) {
    std::string text = method + " " + target + " HTTP/1.1\r\nHost: test\r\n";
    for (const auto& f : fields) text += f + "\r\n";
    if (!body.empty()) text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    text += "\r\n" + body;
    http::RequestParser parser;
    http::Request req;
    Reply reply;
    if (parser.parse_head(text, req) != http::RequestParser::Result::kComplete) {
      ADD_FAILURE() << "request did not parse: " << text;
      return reply;
    }
    req.body = std::string_view(text).substr(parser.head_length());
    http::Response res;
    auto later = std::make_shared<std::optional<http::Response>>();
    res.deferrer = [this, later] {
      return http::DeferredResponse(&loop_, [this, later](http::Response r) {
        *later = std::move(r);
        loop_.quit();
      });
    };
    router_(req, res);
    if (res.deferred) {
      // Answered later (a chat post, once committed): the loop runs until then.
      const auto guard = loop_.run_after(std::chrono::seconds(30), [this] { loop_.quit(); });
      loop_.loop();
      loop_.cancel(guard);
      if (!*later) {
        ADD_FAILURE() << "a deferred answer never came";
        return reply;
      }
      res = std::move(**later);
    }
    reply.status = res.status;
    reply.text = res.body;
    reply.body = json::parse(res.body, nullptr, false);
    return reply;
  }
  Reply post_json(const std::string& target, const json& body, bool token = false) {
    std::vector<std::string> fields{"Content-Type: application/json"};
    if (token) fields.emplace_back("Authorization: Bearer s3cret");
    return call("POST", target, fields, body.dump());
  }

  // An error is {"error": one line, "status": the HTTP status}.
  static void expect_error(const Reply& r, int status, const std::string& fragment) {
    EXPECT_EQ(r.status, status) << r.text;
    ASSERT_TRUE(r.body.is_object()) << r.text;
    EXPECT_EQ(r.body.value("status", 0), status);
    const auto message = r.body.value("error", std::string());
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }

  std::filesystem::path dir_;
  EventLoop loop_;
  std::unique_ptr<ChatHub> hub_;
  DashboardContext ctx_;
  http::Router router_;
  std::vector<ConnectionSnapshot> snapshots_;
};

// --- status and connections -------------------------------------------------------------

TEST_F(DashboardApi, StatusNamesEndpointsAndWhetherNeighboursMayBeEdited) {
  const auto r = call("GET", "/api/status");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["version"], "0.1.0");
  EXPECT_EQ(r.body["http"], "127.0.0.1:8080");
  EXPECT_EQ(r.body["chat"], "127.0.0.1:7000");
  EXPECT_EQ(r.body["discovery_port"], 7001);
  EXPECT_EQ(r.body["token_required"], false);
  EXPECT_GE(r.body["uptime_s"].get<double>(), 0.0);
  EXPECT_EQ(r.body["cap_net_admin"], dashboard::has_cap_net_admin());
  // No token in the request: editing is refused, and the reason says how to send it.
  EXPECT_EQ(r.body["can_edit_neighbours"], false);
  EXPECT_NE(r.body["why_not"].get<std::string>().find("Authorization: Bearer"), std::string::npos);
}

TEST_F(DashboardApi, StatusWithTheTokenDependsOnlyOnTheCapability) {
  const auto r = call("GET", "/api/status", {"Authorization: Bearer s3cret"});
  ASSERT_EQ(r.status, 200);
  const bool cap = dashboard::has_cap_net_admin();
  EXPECT_EQ(r.body["can_edit_neighbours"], cap);
  if (cap)
    EXPECT_TRUE(r.body["why_not"].is_null());
  else
    EXPECT_NE(r.body["why_not"].get<std::string>().find("setcap cap_net_admin+ep"),
              std::string::npos);
}

TEST_F(DashboardApi, ALoopbackPeerIsOnLoSubnetWithTheAndShownAndNoMac) {
  ConnectionSnapshot c;
  c.id = "tcp-chat#1";
  c.protocol = "chat";
  c.local = inet::Endpoint::parse("127.0.0.1:7000");
  c.peer = inet::Endpoint::parse("127.0.0.1:51234");
  c.bytes_in = 12;
  c.bytes_out = 840;
  c.age_s = 3.5;
  c.tcp = TcpInfo{};
  c.tcp->rtt_us = 41;
  c.tcp->cwnd_segments = 10;
  c.chat_name = "alice";
  c.chat_room = "lobby";
  snapshots_.push_back(c);
  const auto r = call("GET", "/api/connections");
  ASSERT_EQ(r.status, 200) << r.text;
  ASSERT_EQ(r.body["count"], 1);
  const auto& j = r.body["connections"][0];
  EXPECT_EQ(j["id"], "tcp-chat#1");
  EXPECT_EQ(j["remote"], "127.0.0.1:51234");
  EXPECT_EQ(j["remote_port"], 51234);
  EXPECT_EQ(j["bytes_out"], 840);
  EXPECT_EQ(j["rtt_us"], 41);
  EXPECT_EQ(j["cwnd"], 10);
  EXPECT_EQ(j["chat_name"], "alice");
  EXPECT_TRUE(j["mac"].is_null());
  EXPECT_NE(j["mac_note"].get<std::string>().find("loopback"), std::string::npos);
  EXPECT_EQ(j["same_subnet"], true);
  EXPECT_EQ(j["subnet"]["interface"], "lo");
  EXPECT_EQ(j["subnet"]["prefix"], "127.0.0.0/8");
  EXPECT_EQ(j["subnet"]["mask"], "255.0.0.0");
  EXPECT_EQ(j["subnet"]["local_and"], "127.0.0.1 AND 255.0.0.0 = 127.0.0.0");
  EXPECT_EQ(j["subnet"]["peer_and"], "127.0.0.1 AND 255.0.0.0 = 127.0.0.0");
}

TEST_F(DashboardApi, ARemotePeerIsNotOnTheSubnetAndItsAndDiffers) {
  ConnectionSnapshot c;
  c.id = "http#2";
  c.protocol = "http";
  c.local = inet::Endpoint::parse("127.0.0.1:8080");
  c.peer = inet::Endpoint::parse("[::ffff:203.0.113.77]:40000");  // TEST-NET-3, dual-stack form
  snapshots_.push_back(c);
  const auto r = call("GET", "/api/connections");
  ASSERT_EQ(r.status, 200) << r.text;
  const auto& j = r.body["connections"][0];
  EXPECT_TRUE(j["rtt_us"].is_null());
  EXPECT_TRUE(j["chat_name"].is_null());
  EXPECT_EQ(j["same_subnet"], false);
  EXPECT_EQ(j["subnet"]["peer_and"], "203.0.113.77 AND 255.0.0.0 = 203.0.0.0");
  EXPECT_TRUE(j["mac"].is_null());
  EXPECT_NE(j["mac_note"].get<std::string>().find("not on a local subnet"), std::string::npos);
}

// --- address tools ----------------------------------------------------------------------

TEST_F(DashboardApi, IpReportsAPrefixInTheCliKeyOrder) {
  const auto r = call("GET", "/api/ip?q=192.168.1.10/24");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.text.rfind("{\"input\":\"192.168.1.10/24\",\"family\":\"ipv4\"", 0), 0u) << r.text;
  EXPECT_EQ(r.body["prefix"], "192.168.1.0/24");
  EXPECT_EQ(r.body["broadcast"], "192.168.1.255");
  EXPECT_EQ(r.body["host_count"], "254");
}

TEST_F(DashboardApi, IpReadsAnAddressAndADottedMaskSeparatedByAnEncodedSpace) {
  for (const char* space : {"%20", "+"}) {  // '+' is how URLSearchParams writes a space
    const auto r = call("GET", std::string("/api/ip?q=10.0.0.1") + space + "255.255.255.252");
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["input"], "10.0.0.1 255.255.255.252");
    EXPECT_EQ(r.body["prefix_length"], 30);
    EXPECT_EQ(r.body["mask_notation"], "dotted");
  }
}

TEST_F(DashboardApi, IpBadInputIsA400WithTheCliMessage) {
  expect_error(call("GET", "/api/ip?q=300.1.1.1"), 400,
               "'300.1.1.1' is not an IPv4 address: octet 300 is above 255");
  expect_error(call("GET", "/api/ip"), 400, "missing q=");
  expect_error(call("GET", "/api/ip?q=10.0.0.1%20192.168.0.1"), 400, "2 items");
  expect_error(call("GET", "/api/ip?q=%zz"), 400, "malformed %-escape");
}

TEST_F(DashboardApi, SameShowsTheAndOfEachAddress) {
  const auto r = call("GET", "/api/ip/same?a=172.16.10.1&b=172.16.10.2&mask=255.255.255.0");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["same_subnet"], true);
  EXPECT_EQ(r.body["network"], "172.16.10.0/24");
  EXPECT_EQ(r.body["steps"][1], "172.16.10.2 AND 255.255.255.0 = 172.16.10.0");
  // An empty mask= (a form's empty field) counts as absent: the /24 of a is used.
  const auto no = call("GET", "/api/ip/same?a=172.16.10.1/24&b=172.16.11.1&mask=");
  ASSERT_EQ(no.status, 200) << no.text;
  EXPECT_EQ(no.body["same_subnet"], false);
  EXPECT_TRUE(no.body["network"].is_null());
}

TEST_F(DashboardApi, SameWithoutAMaskSaysHowToGiveOne) {
  expect_error(call("GET", "/api/ip/same?a=10.0.0.1&b=10.0.0.2"), 400,
               "no mask: write A/LEN or give mask=, e.g. mask=255.255.255.0");
  expect_error(call("GET", "/api/ip/same?a=10.0.0.1&b=::1&mask=8"), 400,
               "they cannot share a subnet");
}

TEST_F(DashboardApi, SplitByCountByLengthAndByHosts) {
  const auto count = call("GET", "/api/ip/split?q=192.168.1.0/24&count=4");
  ASSERT_EQ(count.status, 200) << count.text;
  EXPECT_EQ(count.body["count"], 4);
  EXPECT_EQ(count.body["subnets"][1]["subnet"], "192.168.1.64/26");
  const auto by = call("GET", "/api/ip/split?q=192.168.1.0/24&by=/26");
  ASSERT_EQ(by.status, 200) << by.text;
  EXPECT_EQ(by.body["mode"], "prefix");
  EXPECT_EQ(by.body["subnets"], count.body["subnets"]);
  const auto hosts = call("GET", "/api/ip/split?q=192.168.0.0/24&hosts=100,50");
  ASSERT_EQ(hosts.status, 200) << hosts.text;
  EXPECT_EQ(hosts.body["subnets"][0]["subnet"], "192.168.0.0/25");
  EXPECT_EQ(hosts.body["subnets"][1]["requested_hosts"], 50);
  EXPECT_EQ(hosts.body["free"][0], "192.168.0.192/26");
}

TEST_F(DashboardApi, SplitRefusesAnAmbiguousOrImpossibleAsk) {
  expect_error(call("GET", "/api/ip/split?q=10.0.0.0/8"), 400, "give exactly one of count=N");
  expect_error(call("GET", "/api/ip/split?q=10.0.0.0/8&count=0"), 400, "whole number from 1");
  expect_error(call("GET", "/api/ip/split?q=192.168.0.0/24&hosts=100,x"), 400,
               "hosts= 'x' is not a host count");
  expect_error(call("GET", "/api/ip/split?q=10.0.0.0/8&by=30"), 400, "65536");
}

TEST_F(DashboardApi, AggregateAndRange) {
  const auto agg = call("GET", "/api/ip/aggregate?q=10.0.0.0/24,10.0.1.0/24");
  ASSERT_EQ(agg.status, 200) << agg.text;
  EXPECT_EQ(agg.body["prefixes"], json::array({"10.0.0.0/23"}));
  const auto range = call("GET", "/api/ip/range?first=10.0.0.5&last=10.0.0.20");
  ASSERT_EQ(range.status, 200) << range.text;
  EXPECT_EQ(range.body["address_count"], "16");
  expect_error(call("GET", "/api/ip/range?first=10.0.0.20&last=10.0.0.5"), 400, "backwards");
}

TEST_F(DashboardApi, MacNamesTheVendor) {
  const auto r = call("GET", "/api/mac?q=0000.0c12.3456");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["mac"], "00:00:0c:12:34:56");
  EXPECT_NE(r.body["vendor"].get<std::string>().find("Cisco"), std::string::npos);
  EXPECT_EQ(r.body["registry"], "MA-L");
  expect_error(call("GET", "/api/mac?q=zz"), 400, "'zz' is not a MAC address");
}

// --- neighbours -------------------------------------------------------------------------

TEST_F(DashboardApi, NeighboursListsTheTableAndWhyEditingIsRefused) {
  const auto r = call("GET", "/api/neighbours?all=1");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["count"], r.body["neighbours"].size());
  EXPECT_EQ(r.body["can_edit"], false);
  EXPECT_NE(r.body["why_not"].get<std::string>().find("token"), std::string::npos);
  expect_error(call("GET", "/api/neighbours?dev=nosuchif0"), 400, "nosuchif0");
}

TEST_F(DashboardApi, EditingNeighboursWithoutTheTokenIs401) {
  expect_error(post_json("/api/neighbours",
                         {{"ip", "192.0.2.1"}, {"mac", "00:00:0c:12:34:56"}, {"dev", "lo"}}),
               401, "needs the token");
  expect_error(call("DELETE", "/api/neighbours?ip=192.0.2.1&dev=lo"), 401, "needs the token");
}

// Takes a capability out of this thread's effective set (keeping it permitted) while it
// lives, so that a test run as root still sees the process as an unprivileged user would.
// The main thread is the one /proc/self/status describes.
class WithoutEffectiveCap {
 public:
  explicit WithoutEffectiveCap(unsigned cap) {
    if (::syscall(SYS_capget, &header_, saved_) != 0) return;
    __user_cap_data_struct lowered[2] = {saved_[0], saved_[1]};
    lowered[cap / 32].effective &= ~(1u << (cap % 32));
    dropped_ = ::syscall(SYS_capset, &header_, lowered) == 0;
  }
  ~WithoutEffectiveCap() {
    if (dropped_) ::syscall(SYS_capset, &header_, saved_);
  }
  WithoutEffectiveCap(const WithoutEffectiveCap&) = delete;
  WithoutEffectiveCap& operator=(const WithoutEffectiveCap&) = delete;

 private:
  __user_cap_header_struct header_{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct saved_[2]{};
  bool dropped_ = false;
};

TEST_F(DashboardApi, EditingNeighboursWithoutCapNetAdminIs403WithTheFix) {
  const WithoutEffectiveCap unprivileged(CAP_NET_ADMIN);
  ASSERT_FALSE(dashboard::has_cap_net_admin()) << "could not drop CAP_NET_ADMIN for the test";
  expect_error(post_json("/api/neighbours",
                         {{"ip", "192.0.2.1"}, {"mac", "00:00:0c:12:34:56"}, {"dev", "lo"}}, true),
               403, "sudo setcap cap_net_admin+ep $(which duplex)");
}

TEST_F(DashboardApi, AddingANeighbourValidatesTheBody) {
  if (!dashboard::has_cap_net_admin()) DUPLEX_SKIP_UNLESS_CI("needs CAP_NET_ADMIN");
  expect_error(post_json("/api/neighbours", {{"ip", "192.0.2.1"}, {"dev", "lo"}}, true), 400,
               "lacks \"mac\"");
  expect_error(
      post_json("/api/neighbours",
                {{"ip", "192.0.2.300"}, {"mac", "00:00:0c:12:34:56"}, {"dev", "lo"}}, true),
      400, "is not an IPv4 address");
  expect_error(
      post_json("/api/neighbours",
                {{"ip", "192.0.2.1"}, {"mac", "00:00:0c:12:34:56"}, {"dev", "nosuchif0"}}, true),
      400, "nosuchif0");
  expect_error(call("POST", "/api/neighbours", {"Authorization: Bearer s3cret"}, "{}"), 415,
               "Content-Type: application/json");
  expect_error(
      call("DELETE", "/api/neighbours?ip=192.0.2.1&dev=lo", {"Authorization: Bearer s3cret"}), 404,
      "no neighbour entry for 192.0.2.1 on lo");
}

// --- chat -------------------------------------------------------------------------------

TEST_F(DashboardApi, APostedMessageIsStoredAndInTheHistory) {
  const auto r =
      post_json("/api/chat/messages", {{"room", "lobby"}, {"name", "alice"}, {"text", "hi"}});
  ASSERT_EQ(r.status, 201) << r.text;
  EXPECT_GT(r.body["id"].get<std::int64_t>(), 0);
  EXPECT_EQ(r.body["name"], "alice");
  EXPECT_EQ(r.body["via"], "http");
  EXPECT_GT(r.body["ts"].get<std::int64_t>(), 0);
  const auto h = call("GET", "/api/chat/history?room=lobby");
  ASSERT_EQ(h.status, 200) << h.text;
  ASSERT_EQ(h.body["messages"].size(), 1u);
  EXPECT_EQ(h.body["messages"][0], r.body);
  const auto rooms = call("GET", "/api/chat/rooms");
  ASSERT_EQ(rooms.status, 200) << rooms.text;
  bool found = false;
  for (const auto& room : rooms.body["rooms"])
    if (room["name"] == "lobby") found = room["messages"] == 1;
  EXPECT_TRUE(found) << rooms.text;
}

TEST_F(DashboardApi, HistoryReturnsTheLastLimitMessagesOldestFirst) {
  for (const char* text : {"one", "two", "three"})
    ASSERT_EQ(
        post_json("/api/chat/messages", {{"room", "ops"}, {"name", "bob"}, {"text", text}}).status,
        201);
  const auto h = call("GET", "/api/chat/history?room=ops&limit=2");
  ASSERT_EQ(h.status, 200) << h.text;
  ASSERT_EQ(h.body["messages"].size(), 2u);
  EXPECT_EQ(h.body["messages"][0]["text"], "two");
  EXPECT_EQ(h.body["messages"][1]["text"], "three");
  expect_error(call("GET", "/api/chat/history?room=ops&limit=0"), 400, "limit=");
}

TEST_F(DashboardApi, ChatRefusesBadNamesTextAndBodies) {
  expect_error(post_json("/api/chat/messages", {{"name", "no spaces"}, {"text", "hi"}}), 400,
               "name 'no spaces'");
  expect_error(post_json("/api/chat/messages", {{"name", "alice"}, {"text", ""}}), 400, "empty");
  expect_error(post_json("/api/chat/messages",
                         {{"name", "alice"}, {"text", std::string(chat::kMaxTextBytes + 1, 'x')}}),
               400, "message too long");
  expect_error(post_json("/api/chat/messages", {{"name", "alice"}, {"text", "a\nb"}}), 400,
               "one line");
  expect_error(post_json("/api/chat/messages", {{"name", "alice"}}), 400, "lacks \"text\"");
  expect_error(call("POST", "/api/chat/messages", {"Content-Type: application/json"}, "{"), 400,
               "not valid JSON");
  expect_error(call("GET", "/api/chat/history?room=bad%20room"), 400, "room 'bad room'");
}

}  // namespace
}  // namespace duplex::apps
