// Public. The chat feed of one process: its history in one SQLite file (chat_store.h),
// written on a writer thread (chat_writer.h).
//
// Durability: a message is acknowledged only after its transaction commits (WAL,
// synchronous=FULL), so kill -9 loses no acknowledged message. Messages posted during one
// loop round go to the writer together, which commits every batch that waited while it was
// busy in one transaction (group commit); back on the loop, each batch is acknowledged,
// then delivered, in the order posted. The fsync never runs on the loop, except for
// post_now(), which waits for its commit. Reads (history()) use a second connection on the
// loop and show only messages already delivered.
// Loop thread only, every method.
#pragma once

#include <memory>
#include <string>

#include "duplex/apps/chat/chat_feed.h"

namespace duplex {
class EventLoop;
}

namespace duplex::apps {

class ChatLocalFeed : public ChatFeed {
 public:
  // Opens (creating) the database at `db_path`; throws duplex::Error naming the file and
  // the fix when it cannot. Starts the writer thread, which first applies `retention`.
  ChatLocalFeed(EventLoop* loop, const std::string& db_path, const ChatRetention& retention = {});
  ~ChatLocalFeed() override;

  void attach(Deliver deliver, std::function<Presence()> local_members) override;
  void post(ChatMessage message, Stored on_stored, Failed on_failed) override;
  ChatMessage post_now(ChatMessage message) override;
  std::vector<ChatMessage> history(std::string_view room, std::size_t limit) const override;
  std::map<std::string, std::int64_t, std::less<>> counts() const override;
  std::size_t unacknowledged() const override;
  const std::string& where() const override;
  ChatFeedStatus status() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duplex::apps
