#include "duplex/apps/chat/chat_writer.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "duplex/base/error.h"

namespace duplex::apps {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ChatWriter::ChatWriter(std::unique_ptr<ChatStore> store, const ChatRetention& retention,
                       DoneCallback on_done, PrunedCallback on_pruned)
    : store_(std::move(store)),
      retention_(retention),
      on_done_(std::move(on_done)),
      on_pruned_(std::move(on_pruned)),
      thread_([this] { run(); }) {}

ChatWriter::~ChatWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ChatWriter::submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
  }
  changed_.notify_all();
}

bool ChatWriter::done(const Job& job) const {
  std::lock_guard lock(mutex_);
  return job.finished;
}

void ChatWriter::wait(const Job& job) const {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&job] { return job.finished; });
}

void ChatWriter::run() {
  prune(true);
  // While no one posts, the age limit is applied this often (a tenth of the age, 1 s..1 min).
  const auto idle = std::clamp<std::chrono::milliseconds>(
      retention_.max_age / 10, std::chrono::seconds(1), std::chrono::minutes(1));
  for (;;) {
    std::vector<std::shared_ptr<Job>> jobs;
    {
      std::unique_lock lock(mutex_);
      auto ready = [this] { return stopping_ || !queue_.empty(); };
      bool woke = true;
      if (retention_.max_age.count() > 0)
        woke = changed_.wait_for(lock, idle, ready);
      else
        changed_.wait(lock, ready);
      // Every job queued while the last commit ran goes into this one (group commit).
      jobs.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
      if (jobs.empty() && stopping_) return;
      if (!woke) {
        lock.unlock();
        prune(false);
        continue;
      }
    }
    if (!jobs.empty()) commit(jobs);
  }
}

void ChatWriter::commit(std::vector<std::shared_ptr<Job>>& jobs) {
  std::vector<ChatMessage> batch;
  for (auto& job : jobs)
    for (auto& m : job->messages) batch.push_back(std::move(m));
  const std::int64_t ts = now_ms();  // the commit time, one for the batch
  for (auto& m : batch) m.ts_ms = ts;
  std::string error;
  PrunedCounts pruned;
  try {
    store_->append(batch, retention_, &pruned);
  } catch (const Error& e) {
    error = e.what();
  } catch (const std::exception& e) {
    error = std::string("cannot write the chat history: ") + e.what();
  }
  std::size_t next = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto& job : jobs) {
      for (auto& m : job->messages) m = std::move(batch[next++]);
      job->error = error;
      job->finished = true;
    }
    // The deletes belong to no job in particular: the first carries them.
    if (!jobs.empty()) jobs.front()->pruned = std::move(pruned);
  }
  changed_.notify_all();
  if (on_done_) on_done_();
}

void ChatWriter::prune(bool every_room) {
  if (retention_.max_per_room <= 0 && retention_.max_age.count() <= 0) return;
  // Batch by batch until nothing is left to delete, so that no transaction is long.
  for (int i = 0; i < 100'000; ++i) {
    PrunedCounts pruned;
    try {
      pruned = store_->prune(retention_, every_room);
    } catch (const std::exception&) {
      return;  // tried again at the next commit or idle round
    }
    std::int64_t total = 0;
    for (const auto& [room, n] : pruned) total += n;
    if (total == 0) return;
    if (on_pruned_) on_pruned_(std::move(pruned));
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || !queue_.empty()) return;  // posts first; the rest next time
    }
  }
}

}  // namespace duplex::apps
