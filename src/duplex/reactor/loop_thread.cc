#include "duplex/reactor/loop_thread.h"

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex {

LoopThread::LoopThread(std::function<void(EventLoop*)> init) : init_(std::move(init)) {}

LoopThread::~LoopThread() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    if (loop_) loop_->quit();
  }
  thread_.join();
}

EventLoop* LoopThread::start() {
  thread_ = std::thread([this] { run(); });
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [this] { return loop_ != nullptr || !error_.empty(); });
  if (!error_.empty()) throw Error(error_);
  return loop_;
}

void LoopThread::run() {
  std::unique_ptr<EventLoop> loop;
  try {
    loop = std::make_unique<EventLoop>();
    if (init_) init_(loop.get());
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    error_ = e.what();
    ready_.notify_one();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    loop_ = loop.get();
    ready_.notify_one();
  }
  loop->loop();
  std::lock_guard lock(mutex_);
  loop_ = nullptr;
  loop.reset();
}

LoopThreadPool::LoopThreadPool(EventLoop* base, std::size_t threads)
    : base_(base), count_(threads) {}

LoopThreadPool::~LoopThreadPool() { stop(); }

void LoopThreadPool::start(const std::function<void(EventLoop*)>& init) {
  base_->assert_in_loop_thread();
  for (std::size_t i = 0; i < count_; ++i) {
    threads_.push_back(std::make_unique<LoopThread>(init));
    loops_.push_back(threads_.back()->start());
  }
  if (count_ == 0 && init) init(base_);
}

EventLoop* LoopThreadPool::next_loop() {
  base_->assert_in_loop_thread();
  if (loops_.empty()) return base_;
  EventLoop* loop = loops_[next_];
  next_ = (next_ + 1) % loops_.size();
  return loop;
}

std::vector<EventLoop*> LoopThreadPool::loops() const {
  if (loops_.empty()) return {base_};
  return loops_;
}

void LoopThreadPool::stop() {
  threads_.clear();
  loops_.clear();
}

}  // namespace duplex
