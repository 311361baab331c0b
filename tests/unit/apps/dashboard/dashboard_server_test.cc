// The JSON API behind a real http::Server, loop thread and SQLite writer: what only the
// whole server shows (a chat post waits for its commit without holding up the loop).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <string>

#include "../../transport/loopback.h"
#include "../chat/temp_db.h"
#include "duplex/apps/chat/chat_hub.h"
#include "duplex/apps/dashboard/dashboard.h"
#include "duplex/proto/http_router.h"
#include "duplex/proto/http_server.h"

namespace duplex::apps {
namespace {

// `duplex serve`'s API on 127.0.0.1, with a chat hub on a temporary file.
class ApiServer {
 public:
  explicit ApiServer(const ChatRetention& retention = {}) {
    endpoint_ = runner_.call([&] {
      hub_ = std::make_unique<ChatHub>(runner_.loop(), db_.path(), retention);
      ctx_.loop = runner_.loop();
      ctx_.version = "test";
      ctx_.has_token = [](const http::Request&) { return false; };
      ctx_.chat = hub_.get();
      http::Router router;
      add_api_routes(router, ctx_);
      server_ = std::make_unique<http::Server>(runner_.loop(), test::loopback(), router.handler());
      server_->start();
      return server_->listen_endpoint();
    });
  }
  ~ApiServer() {
    runner_.call([&] {
      server_.reset();
      hub_.reset();
      return 0;
    });
  }
  const inet::Endpoint& endpoint() const { return endpoint_; }
  const test::TempDb& db() const { return db_; }
  std::size_t unacknowledged() {
    return runner_.call([&] { return hub_->unacknowledged(); });
  }

 private:
  test::TempDb db_;
  test::LoopRunner runner_;
  std::unique_ptr<ChatHub> hub_;
  DashboardContext ctx_;
  std::unique_ptr<http::Server> server_;
  inet::Endpoint endpoint_;
};

// Another connection to the chat's file holds SQLite's write lock until it is released:
// the writer's commit waits meanwhile (its busy timeout is 5 s).
class WriteLock {
 public:
  explicit WriteLock(const std::string& path) {
    sqlite3_open(path.c_str(), &db_);
    sqlite3_busy_timeout(db_, 5000);
    locked_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~WriteLock() { release(); }
  bool locked() const { return locked_; }
  void release() {
    if (db_ == nullptr) return;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
  bool locked_ = false;
};

std::string post(std::string_view json) {
  return "POST /api/chat/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
         "application/json\r\nContent-Length: " +
         std::to_string(json.size()) + "\r\n\r\n" + std::string(json);
}

// One whole response: the head, then its Content-Length bytes.
std::string response(test::Client& client) {
  std::string out;
  for (;;) {
    const auto end = out.find("\r\n\r\n");
    if (end != std::string::npos) {
      const auto cl = out.find("Content-Length: ");
      if (cl != std::string::npos && cl < end &&
          out.size() >= end + 4 + std::stoul(out.substr(cl + 16)))
        return out;
    }
    const auto more = client.receive(1);
    if (more.empty()) return out;
    out += more;
  }
}

bool nothing_to_read(test::Client& client) {
  char c;
  return ::recv(client.fd(), &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

TEST(DashboardServer, StatusIsAnsweredWhileAChatPostWaitsForItsCommit) {
  ApiServer server;
  WriteLock lock(server.db().path());
  ASSERT_TRUE(lock.locked());
  test::Client poster(server.endpoint());
  ASSERT_TRUE(poster.send_all(post(R"({"name":"bot","text":"hi"})")));
  ASSERT_TRUE(test::wait_until([&] { return server.unacknowledged() == 1; }))
      << "the post never reached the hub, or the loop waited for its commit";
  test::Client prober(server.endpoint());
  ASSERT_TRUE(prober.send_all("GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  EXPECT_EQ(response(prober).substr(0, 12), "HTTP/1.1 200");
  EXPECT_TRUE(nothing_to_read(poster)) << "the post was answered before its commit";
  lock.release();
  const auto reply = response(poster);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 201") << reply;
  EXPECT_NE(reply.find(R"("name":"bot")"), std::string::npos) << reply;
  EXPECT_NE(reply.find(R"("text":"hi")"), std::string::npos) << reply;
}

TEST(DashboardServer, AChatPostWhoseCommitFailsIs500WithTheReason) {
  ChatRetention retention;
  retention.min_free_bytes = std::uint64_t{1} << 60;  // more than any disk has free
  ApiServer server(retention);
  test::Client poster(server.endpoint());
  ASSERT_TRUE(poster.send_all(post(R"({"name":"bot","text":"hi"})")));
  const auto reply = response(poster);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 500") << reply;
  EXPECT_NE(reply.find("not stored: the disk holding "), std::string::npos) << reply;
}

}  // namespace
}  // namespace duplex::apps
