#include "duplex/apps/impair/forwarder.h"

#include <sched.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::impair {
namespace {

constexpr std::size_t kBatch = 64;          // frames per recvmmsg/sendmmsg
constexpr std::size_t kBatchesPerWake = 8;  // then the other direction gets its turn
constexpr std::size_t kSlot = 16384;        // bytes per received frame (MTU 9000 fits)
constexpr int kSocketBuffer = 8 << 20;

Nanos now() {
  return std::chrono::duration_cast<Nanos>(
      std::chrono::steady_clock::now().time_since_epoch());  // CLOCK_MONOTONIC, as timerfd
}

link::PacketSocket open_port(unsigned ifindex) {
  link::PacketSocket s(ifindex, link::PacketSocket::kAllFrames);
  s.ignore_outgoing();
  s.set_promiscuous();
  s.set_buffers(kSocketBuffer);
  return s;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%",
                whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

}  // namespace

void use_realtime_priority(int priority) {
  sched_param param{};
  param.sched_priority = priority;
  if (::sched_setscheduler(0, SCHED_FIFO, &param) != 0)
    throw Error(std::string("cannot take a real-time priority (SCHED_FIFO): ") +
                std::strerror(errno) + "; it needs root or CAP_SYS_NICE");
}

std::string describe(const LaneStats& s) {
  const auto& c = s.impair;
  std::string out = std::to_string(c.offered) + " in, " + std::to_string(c.released) + " out, " +
                    std::to_string(c.lost) + " lost (" + percent(c.lost, c.offered) + ")";
  auto add = [&](std::uint64_t n, const char* what) {
    if (n) out += ", " + std::to_string(n) + " " + what;
  };
  add(c.overlimit, "over the limit");
  add(c.duplicated, "duplicated");
  add(c.corrupted, "corrupted");
  add(c.reordered, "reordered");
  add(s.kernel_drops, "dropped by the kernel (receive buffer full)");
  add(s.send_drops, "dropped on send (outgoing queue full)");
  add(s.too_long, "too long for our buffers");
  return out;
}

Forwarder::Forwarder(EventLoop* loop, unsigned ifindex_a, unsigned ifindex_b,
                     const Directions& impair, std::uint64_t seed)
    : loop_(loop), socket_a_(open_port(ifindex_a)), socket_b_(open_port(ifindex_b)) {
  lanes_.push_back(std::make_unique<Lane>(&socket_a_, &socket_b_, impair.a_to_b, seed));
  lanes_.push_back(
      std::make_unique<Lane>(&socket_b_, &socket_a_, impair.b_to_a, seed ^ 0x5bd1e995u));
  storage_.resize(kBatch * kSlot);
  timerfd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timerfd_ < 0) throw Error(std::string("timerfd_create: ") + std::strerror(errno));

  channel_a_ = std::make_unique<Channel>(loop_, socket_a_.fd());
  channel_b_ = std::make_unique<Channel>(loop_, socket_b_.fd());
  timer_channel_ = std::make_unique<Channel>(loop_, timerfd_);
  lanes_[0]->out_channel = channel_b_.get();
  lanes_[1]->out_channel = channel_a_.get();
  channel_a_->on_read([this] { receive(*lanes_[0]); });
  channel_b_->on_read([this] { receive(*lanes_[1]); });
  channel_a_->on_write([this] { writable(*lanes_[1]); });
  channel_b_->on_write([this] { writable(*lanes_[0]); });
  timer_channel_->on_read([this] { on_timer(); });
  channel_a_->enable_reading();
  channel_b_->enable_reading();
  timer_channel_->enable_reading();
}

Forwarder::~Forwarder() {
  channel_a_.reset();
  channel_b_.reset();
  timer_channel_.reset();
  if (timerfd_ >= 0) ::close(timerfd_);
}

void Forwarder::receive(Lane& lane) {
  std::span<std::uint8_t> buffers[kBatch];
  std::size_t sizes[kBatch];
  for (std::size_t i = 0; i < kBatch; ++i)
    buffers[i] = std::span<std::uint8_t>(storage_.data() + i * kSlot, kSlot);
  Nanos t{};
  for (std::size_t round = 0; round < kBatchesPerWake; ++round) {
    const std::size_t n = lane.in->receive_many(buffers, sizes);
    if (n == 0) break;
    t = now();
    for (std::size_t i = 0; i < n; ++i) {
      if (sizes[i] == 0) {
        ++lane.too_long;
        continue;
      }
      lane.engine.offer(std::span<const std::uint8_t>(buffers[i].data(), sizes[i]), t);
    }
    flush(lane, t);
    if (n < kBatch) break;
  }
  arm_timer();
}

void Forwarder::flush(Lane& lane, Nanos t) {
  // At most one batch waits for the outgoing socket; the rest stays in the engine, whose
  // limit bounds what is held.
  while (lane.pending.empty() && lane.engine.take_due(t, kBatch, lane.pending) > 0)
    send_pending(lane);
}

void Forwarder::writable(Lane& lane) {
  send_pending(lane);
  if (lane.pending.empty()) {
    flush(lane, now());
    arm_timer();
  }
}

void Forwarder::send_pending(Lane& lane) {
  std::span<const std::uint8_t> frames[kBatch];
  std::size_t done = 0;
  int error = 0;
  while (done < lane.pending.size()) {
    const std::size_t n = std::min(kBatch, lane.pending.size() - done);
    for (std::size_t i = 0; i < n; ++i) frames[i] = lane.pending[done + i];
    const std::size_t sent = lane.out->send_many({frames, n}, &error);
    done += sent;
    if (sent < n) {
      if (error != EAGAIN && error != ENOBUFS && error != EWOULDBLOCK) {
        ++lane.send_drops;  // this frame is refused for good (too big for the MTU, say)
        ++done;
        continue;
      }
      break;
    }
  }
  for (std::size_t i = 0; i < done; ++i) lane.engine.recycle(std::move(lane.pending[i]));
  lane.pending.erase(lane.pending.begin(), lane.pending.begin() + static_cast<long>(done));
  if (lane.pending.empty()) {
    if (lane.out_channel->is_writing()) lane.out_channel->disable_writing();
  } else if (!lane.out_channel->is_writing()) {
    lane.out_channel->enable_writing();
  }
}

void Forwarder::on_timer() {
  std::uint64_t expirations;
  while (::read(timerfd_, &expirations, sizeof expirations) > 0) {
  }
  armed_ = Nanos(-1);
  const Nanos t = now();
  for (auto& lane : lanes_) flush(*lane, t);
  arm_timer();
}

void Forwarder::arm_timer() {
  Nanos next(-1);
  for (auto& lane : lanes_) {
    // A lane waiting for its outgoing socket takes no more frames out until it drains.
    if (!lane->pending.empty()) continue;
    if (const auto when = lane->engine.next_release())
      if (next.count() < 0 || *when < next) next = *when;
  }
  if (next == armed_) return;
  itimerspec spec{};
  if (next.count() >= 0) {
    const auto ns = std::max<std::int64_t>(next.count(), 1);  // 0 would disarm it
    spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  }
  ::timerfd_settime(timerfd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_ = next;
}

LaneStats Forwarder::stats(Lane& lane) {
  lane.kernel_drops += lane.in->take_drops();  // the kernel resets its count when read
  LaneStats s;
  s.impair = lane.engine.counters();
  s.kernel_drops = lane.kernel_drops;
  s.send_drops = lane.send_drops;
  s.too_long = lane.too_long;
  return s;
}

}  // namespace duplex::impair
