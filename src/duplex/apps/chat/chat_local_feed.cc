#include "duplex/apps/chat/chat_local_feed.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "duplex/apps/chat/chat_store.h"
#include "duplex/apps/chat/chat_writer.h"
#include "duplex/base/error.h"
#include "duplex/base/log.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps {

namespace {

constexpr std::size_t kDeliverPerRound = 512;  // messages acknowledged and delivered per round

}  // namespace

ChatFeed::~ChatFeed() = default;

struct ChatLocalFeed::Impl {
  struct Callbacks {
    Stored on_stored;
    Failed on_failed;
  };
  struct Pending {
    ChatMessage message;
    Callbacks callbacks;
  };
  // A batch with the writer, and whom to tell.
  struct InFlight {
    std::shared_ptr<ChatWriter::Job> job;
    std::vector<Callbacks> callbacks;
  };

  // The writer's store is opened first (it creates the file and the schema), here, so that
  // a database that cannot be opened stops the caller.
  Impl(EventLoop* l, const std::string& path, const ChatRetention& retention)
      : loop(l), writer_store(std::make_unique<ChatStore>(path)), reader(path) {
    for (auto& [room, count] : reader.room_counts()) room_counts[room] = count;
    published = reader.last_id();
    std::weak_ptr<bool> weak = alive;
    writer = std::make_unique<ChatWriter>(
        std::move(writer_store), retention,
        [this, weak] {
          loop->queue_in_loop([this, weak] {
            if (auto a = weak.lock(); a && *a) complete();
          });
        },
        [this, weak](PrunedCounts pruned) {
          loop->queue_in_loop([this, weak, pruned = std::move(pruned)] {
            if (auto a = weak.lock(); a && *a) uncount(pruned);
          });
        });
  }

  // Queues a valid message for this round's batch.
  void enqueue(ChatMessage m, Callbacks callbacks) {
    pending.push_back(Pending{std::move(m), std::move(callbacks)});
    if (flush_queued) return;
    flush_queued = true;
    loop->queue_in_loop([this, weak = std::weak_ptr<bool>(alive)] {
      if (auto a = weak.lock(); a && *a) flush();
    });
  }

  // End of the round: this round's posts go to the writer as one batch.
  void flush() {
    flush_queued = false;
    if (pending.empty()) return;
    auto job = std::make_shared<ChatWriter::Job>();
    InFlight f{job, {}};
    for (auto& p : pending) {
      job->messages.push_back(std::move(p.message));
      f.callbacks.push_back(std::move(p.callbacks));
    }
    pending.clear();
    in_flight.push_back(std::move(f));
    writer->submit(std::move(job));
  }

  // The writer finished one or more batches: each in the order posted. Past
  // kDeliverPerRound messages the rest waits for the next round (unless `all`), so that a
  // backlog of commits does not stall the loop with its fan-out.
  void complete(bool all = false) {
    std::size_t applied = 0;
    while (!in_flight.empty() && writer->done(*in_flight.front().job)) {
      if (!all && applied >= kDeliverPerRound) {
        loop->queue_in_loop([this, weak = std::weak_ptr<bool>(alive)] {
          if (auto a = weak.lock(); a && *a) complete();
        });
        return;
      }
      InFlight f = std::move(in_flight.front());
      in_flight.pop_front();
      applied += f.callbacks.size();
      apply(f);
    }
  }

  void apply(InFlight& f) {
    const ChatWriter::Job& job = *f.job;
    if (!job.error.empty()) {
      // The clients hear of a failed commit; the operator too, on the log.
      log::error("chat", "commit of ", f.callbacks.size(),
                 f.callbacks.size() == 1 ? " message failed: " : " messages failed: ", job.error);
      for (auto& c : f.callbacks)
        if (c.on_failed) c.on_failed(job.error);
      return;
    }
    for (const auto& m : job.messages) {
      ++room_counts[m.room];
      published = std::max(published, m.id);
    }
    uncount(job.pruned);
    // Every acknowledgement of the batch first, then the delivery: a sender never sees its
    // message from the room before its ack.
    for (std::size_t i = 0; i < f.callbacks.size(); ++i)
      if (f.callbacks[i].on_stored) f.callbacks[i].on_stored(job.messages[i]);
    if (deliver)
      for (const auto& m : job.messages) deliver(m);
  }

  void uncount(const PrunedCounts& pruned) {
    for (const auto& [room, n] : pruned) {
      auto it = room_counts.find(room);
      if (it == room_counts.end()) continue;
      it->second -= n;
      if (it->second <= 0) room_counts.erase(it);
    }
  }

  EventLoop* loop;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  std::unique_ptr<ChatStore> writer_store;  // until the writer takes it
  ChatStore reader;                         // the loop's reads
  std::int64_t published = 0;               // the last id delivered: reads stop there
  std::map<std::string, std::int64_t, std::less<>> room_counts;
  std::vector<Pending> pending;
  std::deque<InFlight> in_flight;
  bool flush_queued = false;
  Deliver deliver;
  std::unique_ptr<ChatWriter> writer;  // last: its thread stops first
};

ChatLocalFeed::ChatLocalFeed(EventLoop* loop, const std::string& db_path,
                             const ChatRetention& retention)
    : impl_(std::make_unique<Impl>(loop, db_path, retention)) {}

ChatLocalFeed::~ChatLocalFeed() { *impl_->alive = false; }

void ChatLocalFeed::attach(Deliver deliver, std::function<Presence()>) {
  impl_->deliver = std::move(deliver);
}

void ChatLocalFeed::post(ChatMessage message, Stored on_stored, Failed on_failed) {
  impl_->enqueue(std::move(message), Impl::Callbacks{std::move(on_stored), std::move(on_failed)});
}

ChatMessage ChatLocalFeed::post_now(ChatMessage message) {
  auto& im = *impl_;
  // This round's posts first, so that the order of arrival is kept.
  im.flush();
  auto job = std::make_shared<ChatWriter::Job>();
  job->messages.push_back(std::move(message));
  im.in_flight.push_back(Impl::InFlight{job, {Impl::Callbacks{}}});
  im.writer->submit(job);
  im.writer->wait(*job);
  im.complete(true);
  if (!job->error.empty()) throw Error(job->error);
  return job->messages.front();
}

std::vector<ChatMessage> ChatLocalFeed::history(std::string_view room, std::size_t limit) const {
  return impl_->reader.recent(room, limit, impl_->published);
}

std::map<std::string, std::int64_t, std::less<>> ChatLocalFeed::counts() const {
  return impl_->room_counts;
}

std::size_t ChatLocalFeed::unacknowledged() const {
  std::size_t n = impl_->pending.size();
  for (const auto& f : impl_->in_flight) n += f.callbacks.size();
  return n;
}

const std::string& ChatLocalFeed::where() const { return impl_->reader.path(); }

ChatFeedStatus ChatLocalFeed::status() const { return {"sqlite", where(), true, "", {}, ""}; }

}  // namespace duplex::apps
