// Public. One data stream of a perf test on an EventLoop: a connected TCP or UDP socket
// that sends blocks (paced to a rate, when one is asked) or receives and counts them.
//
// Data streams bypass TcpConnection's buffers: a sender writes its one block straight from
// memory (no copy per write, as iperf3 does) and a receiver reads into a scratch buffer and
// drops it. A TCP receiver sleeps on a low-water mark (SO_RCVLOWAT) sized to its rate, so
// that it wakes per half megabyte rather than per segment at loopback speeds: the wake-ups,
// not the reads, were most of the CPU per byte beyond the copy. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duplex/apps/perf/perf_protocol.h"
#include "duplex/apps/perf/perf_udp.h"
#include "duplex/apps/perf/perf_udp_batch.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/timer_queue.h"
#include "duplex/transport/socket.h"
#include "duplex/transport/tcp_info.h"

namespace duplex {
class EventLoop;
}

namespace duplex::apps::perf {

// Bytes and blocks sent by every stream of a test, against the test's -n/-k limits.
struct SendBudget {
  std::uint64_t bytes_limit = 0;   // 0: none
  std::uint64_t blocks_limit = 0;  // 0: none
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  // Called once, from a stream's write, when the limit is reached.
  std::function<void()> on_spent;
  bool spent = false;
  bool exhausted() const noexcept {
    return (bytes_limit != 0 && bytes >= bytes_limit) ||
           (blocks_limit != 0 && blocks >= blocks_limit);
  }
};

struct StreamOptions {
  Protocol protocol = Protocol::kTcp;
  bool sender = false;
  std::uint32_t block_size = 128 * 1024;
  std::uint64_t rate = 0;  // bits/s, 0: as fast as the socket takes them
  bool counters_64bit = false;
  SendBudget* budget = nullptr;  // shared by the test's streams; may be null
};

// What a stream counted, in total; an interval is the difference of two of these.
struct StreamCounters {
  std::uint64_t bytes = 0;
  std::uint64_t packets = 0;  // UDP: datagrams sent, or the highest sequence received
  std::int64_t lost = 0;      // UDP receiver
  std::uint64_t out_of_order = 0;
  double jitter = 0;  // seconds, UDP receiver (a running value, not a sum)
};

// Datagrams per recvmmsg() of a UDP receiver.
inline constexpr std::size_t kUdpReceiveBatch = 32;

class Stream {
 public:
  // Takes a connected, non-blocking socket. `id` is the protocol's stream id (1, 3, 4...).
  Stream(EventLoop* loop, Socket socket, int id, StreamOptions options);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Called once when the stream fails or the peer closes it: a reason in one line.
  void on_failure(std::function<void(Stream&, const std::string& why)> cb) {
    failure_cb_ = std::move(cb);
  }

  // Starts sending (a sender) or counting (a receiver). A receiver reads from the moment it
  // exists, so that the peer never blocks on a full window before the test starts, but it
  // counts only from start() on, as iperf3 counts only in TEST_RUNNING.
  void start(Clock::time_point when);
  // The test's end: a sender stops; a receiver counts what the socket holds already (with
  // `drain`), then counts no more but keeps reading and dropping, so that a peer still
  // sending does not block on a full window before it hears of the end.
  void finish(Clock::time_point when, bool drain);
  // A TCP receiver counts what its socket holds now (it may sleep on a low-water mark with
  // bytes queued): called before the counters are sampled. Nothing for other streams.
  void catch_up(Clock::time_point now);
  // Closes the socket.
  void close();
  bool running() const noexcept { return running_; }

  int id() const noexcept { return id_; }
  int fd() const noexcept { return socket_.fd(); }
  bool sender() const noexcept { return options_.sender; }
  const StreamCounters& counters() const noexcept { return counters_; }
  Clock::time_point started_at() const noexcept { return started_at_; }
  Clock::time_point stopped_at() const noexcept { return stopped_at_; }
  // TCP_INFO now (TCP only; nullopt once closed).
  std::optional<TcpInfo> tcp_info() const;
  // TCP_CONGESTION of the socket: "cubic", "bbr"... ("" for UDP).
  std::string congestion() const;

 private:
  void handle_read();
  void handle_write();
  void receive_tcp(std::size_t budget_bytes);
  // TCP receiver: SO_RCVLOWAT from the rate measured over the last window (see the .cc).
  void adapt_low_water(Clock::time_point now);
  void receive_udp(std::size_t budget_datagrams);
  bool send_allowed(Clock::time_point now);
  // UDP sender: one batch (UdpBatchSender); false when the socket is full or the test over.
  bool send_udp_batch();
  std::size_t udp_datagrams_due(Clock::time_point now) const;
  void fail(const std::string& why);

  EventLoop* loop_;
  Socket socket_;
  Channel channel_;
  int id_;
  StreamOptions options_;
  std::unique_ptr<char[]> block_;               // TCP sender: what every send() sends
  std::unique_ptr<UdpBatchSender> udp_sender_;  // UDP sender
  std::unique_ptr<char[]> udp_receive_;         // UDP receiver: kUdpReceiveBatch blocks
  bool running_ = false;
  bool counting_ = false;
  bool failed_ = false;
  Clock::time_point started_at_{};
  Clock::time_point stopped_at_{};
  StreamCounters counters_;
  UdpReceiveStats udp_;
  TimerId pacing_timer_;
  // TCP receiver: bytes read since rate_since_, and the SO_RCVLOWAT set (1: the default).
  std::uint64_t rate_bytes_ = 0;
  Clock::time_point rate_since_{};
  int low_water_ = 1;
  std::function<void(Stream&, const std::string&)> failure_cb_;
};

// TCP_CONGESTION on a socket; throws duplex::Error naming the algorithm and the fix when
// the kernel does not have it ("modprobe tcp_bbr").
void set_congestion(int fd, const std::string& algorithm);

// The same clock in seconds, for arrival times.
double steady_seconds() noexcept;

}  // namespace duplex::apps::perf
