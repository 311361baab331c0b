#include "duplex/apps/perf/perf_stream.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps::perf {
namespace {

// Reads or writes per wake-up: enough to keep the socket busy, few enough that the control
// connection and the interval timer are served between rounds.
constexpr int kCallsPerWake = 16;

// A TCP receiver reads up to this much per read(), into one scratch buffer per thread (the
// bytes are dropped), and at most kTcpReadsPerWake reads per wake-up.
constexpr std::size_t kTcpReadSize = 512 * 1024;
constexpr std::size_t kTcpReadsPerWake = 4;

// SO_RCVLOWAT of a TCP receiver: what arrives in kLowWaterSpan at the rate measured over
// the last kRateWindow, rounded down to a power of two, up to kLowWaterMax; below
// kLowWaterMin the default (wake per segment). A mark of a millisecond's data keeps the
// receive window open on any path, and it is measured, not assumed, so a slow or paced
// stream is not held back; a stream that slows down lowers it at its next wake-up or
// interval (catch_up), and the kernel wakes the reader anyway when the window nearly
// closes or the peer closes.
constexpr auto kRateWindow = std::chrono::milliseconds(50);
constexpr double kLowWaterSpan = 1e-3;  // seconds
constexpr std::uint64_t kLowWaterMin = 16 * 1024;
constexpr std::uint64_t kLowWaterMax = kTcpReadSize;

char* tcp_scratch() {
  static thread_local std::unique_ptr<char[]> scratch(new char[kTcpReadSize]);
  return scratch.get();
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

double steady_seconds() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void set_congestion(int fd, const std::string& algorithm) {
  if (::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, algorithm.data(),
                   static_cast<socklen_t>(algorithm.size())) < 0) {
    const int err = errno;
    if (err == ENOENT) {
      throw Error("congestion control '" + algorithm +
                  "' is not available: see /proc/sys/net/ipv4/tcp_available_congestion_control "
                  "(modprobe tcp_" +
                  algorithm + ")");
    }
    throw Error("TCP_CONGESTION " + algorithm + ": " + errno_text(err));
  }
}

Stream::Stream(EventLoop* loop, Socket socket, int id, StreamOptions options)
    : loop_(loop),
      socket_(std::move(socket)),
      channel_(loop, socket_.fd()),
      id_(id),
      options_(options) {
  if (options_.sender && options_.protocol == Protocol::kTcp) {
    // Random-looking payload is not needed; zeros compress, but nothing on the path does.
    // (Receivers read into the loop's buffer; UDP senders build datagrams of their own.)
    block_.reset(new char[std::max<std::uint32_t>(options_.block_size, 16)]);
    std::memset(block_.get(), 0, std::max<std::uint32_t>(options_.block_size, 16));
  }
  channel_.on_read([this] { handle_read(); });
  channel_.on_write([this] { handle_write(); });
  channel_.on_close([this] { fail("the peer closed the stream"); });
  channel_.on_error([this] {
    const int err = socket_.pending_error();
    fail(err ? errno_text(err) : "socket error");
  });
  if (options_.protocol == Protocol::kUdp) {
    if (options_.sender) {
      udp_sender_ = std::make_unique<UdpBatchSender>(options_.block_size, options_.counters_64bit);
    } else {
      udp_receive_.reset(new char[kUdpReceiveBatch * std::size_t{options_.block_size}]);
    }
  }
  if (!options_.sender) channel_.enable_reading();
}

Stream::~Stream() {
  if (pacing_timer_) loop_->cancel(pacing_timer_);
  channel_.remove();
}

void Stream::start(Clock::time_point when) {
  if (running_ || failed_ || !socket_.valid()) return;
  running_ = true;
  counting_ = true;
  started_at_ = when;
  if (options_.sender) channel_.enable_writing();
}

void Stream::finish(Clock::time_point when, bool drain) {
  if (!socket_.valid()) return;
  if (running_ && !options_.sender && drain) {
    // What arrived before the end counts: the bytes queued now, and no more, since a peer
    // that still sends would keep the socket readable for ever. (FIONREAD gives a UDP
    // socket's first datagram only: a bound on datagrams instead.)
    int queued = 0;
    if (options_.protocol == Protocol::kUdp) {
      receive_udp(8192);
    } else if (::ioctl(socket_.fd(), FIONREAD, &queued) == 0 && queued > 0) {
      receive_tcp(static_cast<std::size_t>(queued));
    }
  }
  if (running_) stopped_at_ = when;
  running_ = false;
  counting_ = false;
  channel_.disable_writing();
}

void Stream::catch_up(Clock::time_point now) {
  if (!running_ || options_.sender || options_.protocol != Protocol::kTcp || !socket_.valid())
    return;
  int queued = 0;
  if (::ioctl(socket_.fd(), FIONREAD, &queued) == 0 && queued > 0)
    receive_tcp(static_cast<std::size_t>(queued));
  adapt_low_water(now);
}

void Stream::adapt_low_water(Clock::time_point now) {
  if (rate_since_ == Clock::time_point{}) {
    rate_since_ = now;
    rate_bytes_ = 0;
    return;
  }
  if (now - rate_since_ < kRateWindow || !socket_.valid()) return;
  const double per_second = static_cast<double>(rate_bytes_) / seconds_between(rate_since_, now);
  const auto span_bytes = static_cast<std::uint64_t>(per_second * kLowWaterSpan);
  rate_since_ = now;
  rate_bytes_ = 0;
  const int mark = span_bytes < kLowWaterMin
                       ? 1
                       : static_cast<int>(std::bit_floor(std::min(span_bytes, kLowWaterMax)));
  if (mark == low_water_) return;
  // On failure the kernel keeps the mark it had: only the wake-ups differ, not the counts.
  if (::setsockopt(socket_.fd(), SOL_SOCKET, SO_RCVLOWAT, &mark, sizeof mark) == 0)
    low_water_ = mark;
}

void Stream::close() {
  if (pacing_timer_) {
    loop_->cancel(pacing_timer_);
    pacing_timer_ = TimerId{};
  }
  channel_.disable_all();
  channel_.remove();
  socket_ = Socket();
}

void Stream::fail(const std::string& why) {
  if (failed_ || !socket_.valid()) return;
  failed_ = true;
  const auto now = Clock::now();
  if (running_) stopped_at_ = now;
  running_ = false;
  counting_ = false;
  close();
  if (failure_cb_) failure_cb_(*this, why);
}

void Stream::handle_read() {
  if (options_.protocol == Protocol::kTcp) {
    receive_tcp(kTcpReadsPerWake * kTcpReadSize);
    adapt_low_water(Clock::now());
  } else {
    receive_udp(kCallsPerWake);
  }
}

void Stream::receive_tcp(std::size_t budget_bytes) {
  while (budget_bytes > 0 && socket_.valid()) {
    const std::size_t want = std::min(budget_bytes, kTcpReadSize);
    const ssize_t n = ::read(socket_.fd(), tcp_scratch(), want);
    if (n > 0) {
      rate_bytes_ += static_cast<std::uint64_t>(n);
      if (counting_) counters_.bytes += static_cast<std::uint64_t>(n);
      budget_bytes -= static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) {
      // The sender is done (it closes when the test ends): nothing more to count.
      channel_.disable_reading();
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) fail(errno_text(errno));
    return;
  }
}

void Stream::receive_udp(std::size_t budget_datagrams) {
  const bool wide = options_.counters_64bit;
  const std::size_t size = options_.block_size;
  std::size_t lengths[kUdpReceiveBatch];
  for (std::size_t done = 0; done < budget_datagrams && socket_.valid();) {
    const long n = receive_datagrams(socket_.fd(), udp_receive_.get(), size,
                                     std::min(kUdpReceiveBatch, budget_datagrams - done), lengths);
    if (n < 0) {
      if (errno == EINTR) continue;
      // ECONNREFUSED: an ICMP error for an earlier datagram; nothing to count.
      if (errno != ECONNREFUSED) fail(errno_text(errno));
      return;
    }
    if (n == 0) return;
    done += static_cast<std::size_t>(n);
    if (!counting_) continue;
    const double arrival = steady_seconds();  // one clock read for the batch
    for (long i = 0; i < n; ++i) {
      counters_.bytes += lengths[i];
      const char* d = udp_receive_.get() + static_cast<std::size_t>(i) * size;
      if (auto h = decode_udp_header(std::string_view(d, std::min(lengths[i], size)), wide))
        udp_.on_datagram(*h, arrival);
    }
    counters_.packets = udp_.highest_sequence();
    counters_.lost = udp_.lost();
    counters_.out_of_order = udp_.out_of_order();
    counters_.jitter = udp_.jitter_seconds();
  }
}

bool Stream::send_allowed(Clock::time_point now) {
  if (options_.budget && options_.budget->exhausted()) {
    channel_.disable_writing();
    return false;
  }
  if (options_.rate == 0) return true;
  // iperf3's throttle: send while the average rate since the start is below the target.
  const double elapsed = seconds_between(started_at_, now);
  const double earned_bits = static_cast<double>(options_.rate) * elapsed;
  const double sent_bits = static_cast<double>(counters_.bytes) * 8.0;
  if (sent_bits < earned_bits) return true;
  channel_.disable_writing();
  const double wait = (sent_bits - earned_bits) / static_cast<double>(options_.rate);
  const auto delay = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(wait, 50e-6)));
  pacing_timer_ = loop_->run_after(delay, [this] {
    pacing_timer_ = TimerId{};
    if (running_) channel_.enable_writing();
  });
  return false;
}

void Stream::handle_write() {
  if (!running_) {
    channel_.disable_writing();
    return;
  }
  const bool udp = options_.protocol == Protocol::kUdp;
  const std::size_t size = options_.block_size;
  for (int i = 0; i < kCallsPerWake; ++i) {
    if (!send_allowed(Clock::now())) return;
    if (udp) {
      if (!send_udp_batch()) return;
      continue;
    }
    const ssize_t n = ::send(socket_.fd(), block_.get(), size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // the channel waits for room
      fail(errno_text(errno));
      return;
    }
    counters_.bytes += static_cast<std::uint64_t>(n);
    if (options_.budget) {
      SendBudget& budget = *options_.budget;
      budget.bytes += static_cast<std::uint64_t>(n);
      ++budget.blocks;
      if (budget.exhausted() && !budget.spent) {
        budget.spent = true;
        if (budget.on_spent) budget.on_spent();
        return;
      }
    }
  }
}

std::size_t Stream::udp_datagrams_due(Clock::time_point now) const {
  const std::size_t most = udp_sender_->max_datagrams();
  if (options_.budget) return 1;  // -n/-k: one at a time, to stop exactly at the limit
  if (options_.rate == 0) return most;
  // As many as the rate has earned since the start, at least one (send_allowed said yes).
  const double earned_bits = static_cast<double>(options_.rate) * seconds_between(started_at_, now);
  const double owed = earned_bits - static_cast<double>(counters_.bytes) * 8.0;
  const double each = static_cast<double>(options_.block_size) * 8.0;
  return std::clamp<std::size_t>(static_cast<std::size_t>(owed / each) + 1, 1, most);
}

bool Stream::send_udp_batch() {
  const long n =
      udp_sender_->send(socket_.fd(), counters_.packets + 1, udp_datagrams_due(Clock::now()));
  if (n < 0) {
    if (errno == EINTR) return true;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
      return false;  // the channel waits for room
    // ECONNREFUSED: the receiver's port went away (an ICMP error); keep sending, as
    // iperf3 does not stop for it either.
    if (errno == ECONNREFUSED) return true;
    fail(errno_text(errno));
    return false;
  }
  const auto count = static_cast<std::uint64_t>(n);
  counters_.bytes += count * options_.block_size;
  counters_.packets += count;
  if (options_.budget) {
    SendBudget& budget = *options_.budget;
    budget.bytes += count * options_.block_size;
    budget.blocks += count;
    if (budget.exhausted() && !budget.spent) {
      budget.spent = true;
      if (budget.on_spent) budget.on_spent();
      return false;
    }
  }
  return true;
}

std::optional<TcpInfo> Stream::tcp_info() const {
  if (options_.protocol != Protocol::kTcp || !socket_.valid()) return std::nullopt;
  return read_tcp_info(socket_.fd());
}

std::string Stream::congestion() const {
  if (options_.protocol != Protocol::kTcp || !socket_.valid()) return {};
  char name[32] = {};
  socklen_t len = sizeof name - 1;
  if (::getsockopt(socket_.fd(), IPPROTO_TCP, TCP_CONGESTION, name, &len) < 0) return {};
  return std::string(name, ::strnlen(name, len));
}

}  // namespace duplex::apps::perf
