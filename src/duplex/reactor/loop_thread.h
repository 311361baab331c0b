// Public. Threads that each run one EventLoop, and a pool of them that hands out loops
// round-robin (how TcpServer spreads connections).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace duplex {

class EventLoop;

class LoopThread {
 public:
  // `init` runs in the new thread with its loop, before the loop starts.
  explicit LoopThread(std::function<void(EventLoop*)> init = {});
  ~LoopThread();  // quits the loop and joins the thread
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  // Starts the thread and returns its loop once it exists. Call once, from one thread.
  EventLoop* start();

 private:
  void run();

  std::function<void(EventLoop*)> init_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable ready_;
  EventLoop* loop_ = nullptr;  // guarded by mutex_
  std::string error_;          // why the thread could not make its loop
};

class LoopThreadPool {
 public:
  // With threads == 0 everything runs on `base`.
  LoopThreadPool(EventLoop* base, std::size_t threads);
  ~LoopThreadPool();
  LoopThreadPool(const LoopThreadPool&) = delete;
  LoopThreadPool& operator=(const LoopThreadPool&) = delete;

  // Base loop thread only.
  void start(const std::function<void(EventLoop*)>& init = {});
  // Base loop thread only. The next loop, round-robin; `base` when there are no threads.
  EventLoop* next_loop();
  // Base loop thread only. Every loop that runs connections (`base` alone if no threads).
  std::vector<EventLoop*> loops() const;
  // Any thread. Quits and joins the threads (their queued work runs first).
  void stop();

 private:
  EventLoop* base_;
  std::size_t count_;
  std::vector<std::unique_ptr<LoopThread>> threads_;
  std::vector<EventLoop*> loops_;
  std::size_t next_ = 0;
};

}  // namespace duplex
