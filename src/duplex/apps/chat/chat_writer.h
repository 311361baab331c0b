// Internal to the chat. The thread that writes the chat history: ChatHub hands it batches of
// messages (jobs); it commits every job queued while it was busy in one transaction (a group
// commit: one fsync for them all, synchronous=FULL), with the retention deletes, and tells
// the hub through `on_done`, which must hand over to the hub's loop (queue_in_loop). The
// fsync and the WAL checkpoints (SQLite runs them after a commit, in the committing
// connection) thus never stall the loop. While no one posts, it applies the age limit.
//
// Threading: submit(), done() and wait() from any thread; a job's fields belong to the
// writer from submit() until done() returns true, then to the caller.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "duplex/apps/chat/chat_store.h"

namespace duplex::apps {

class ChatWriter {
 public:
  struct Job {
    std::vector<ChatMessage> messages;  // ids and commit time set by the commit
    std::string error;                  // why the commit failed; "" when it did not
    PrunedCounts pruned;                // rows the retention deleted in the same transaction
    bool finished = false;              // guarded by the writer's mutex: use done()
  };
  using DoneCallback = std::function<void()>;
  using PrunedCallback = std::function<void(PrunedCounts)>;

  // Takes the store (opened by the caller's thread, so that errors reach it); on start the
  // thread first applies `retention` to the whole file, in batches.
  ChatWriter(std::unique_ptr<ChatStore> store, const ChatRetention& retention, DoneCallback on_done,
             PrunedCallback on_pruned);
  // Commits what is queued, then joins the thread.
  ~ChatWriter();
  ChatWriter(const ChatWriter&) = delete;
  ChatWriter& operator=(const ChatWriter&) = delete;

  void submit(std::shared_ptr<Job> job);
  bool done(const Job& job) const;
  // Blocks until the job is done.
  void wait(const Job& job) const;

 private:
  void run();
  void commit(std::vector<std::shared_ptr<Job>>& jobs);
  void prune(bool every_room);

  std::unique_ptr<ChatStore> store_;  // the writer thread's, after the constructor
  const ChatRetention retention_;
  DoneCallback on_done_;
  PrunedCallback on_pruned_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::deque<std::shared_ptr<Job>> queue_;  // guarded by mutex_
  bool stopping_ = false;                   // guarded by mutex_
  std::thread thread_;
};

}  // namespace duplex::apps
