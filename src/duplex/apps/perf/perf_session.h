// Public. The running part of a perf test that the client and the server share: the data
// streams, the interval reports (with each TCP sender's TCP_INFO), the end's totals and the
// results exchanged. The control protocol around it is perf_client / perf_server.
// Loop thread only.
#pragma once

#include <sys/resource.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/perf/perf_protocol.h"
#include "duplex/apps/perf/perf_report.h"
#include "duplex/apps/perf/perf_stream.h"
#include "duplex/reactor/timer_queue.h"

namespace duplex {
class EventLoop;
}

namespace duplex::apps::perf {

class Session {
 public:
  // `we_send`: this side sends (the client, unless reverse; the server with reverse).
  // `interval`: seconds between interval reports; 0 for none. `server`: a congestion
  // control that the kernel lacks is a warning on the server (as iperf3's), an error on
  // the client.
  Session(EventLoop* loop, const TestParameters& params, bool we_send, bool server, double interval,
          std::uint32_t control_mss);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Every interval as it closes (and the last, partial one, from finish()).
  void on_interval(std::function<void(const Interval&)> cb) { interval_cb_ = std::move(cb); }
  // A stream failed while the test ran (reset, peer gone): one line.
  void on_stream_failure(std::function<void(const std::string&)> cb) {
    failure_cb_ = std::move(cb);
  }
  // The senders have spent the -n/-k budget (client side).
  void on_budget_spent(std::function<void()> cb) { budget_cb_ = std::move(cb); }

  const TestParameters& params() const noexcept { return params_; }
  bool we_send() const noexcept { return we_send_; }
  std::uint32_t block_size() const noexcept { return block_size_; }

  // Adds a connected stream; ids follow iperf3's numbering (1, 3, 4...). Sets the socket's
  // options (congestion control, buffer sizes, TCP_NODELAY, TCP_MAXSEG); throws
  // duplex::Error when the kernel refuses one.
  Stream& add_stream(Socket socket);
  std::size_t stream_count() const noexcept { return streams_.size(); }
  std::vector<std::unique_ptr<Stream>>& streams() noexcept { return streams_; }

  // TEST_RUNNING: streams start and intervals are timed from now.
  void start();
  bool started() const noexcept { return started_; }
  // TEST_END: the last interval and the totals; streams stop (receivers drain with `drain`).
  void finish(bool drain);
  bool finished() const noexcept { return finished_; }
  // Closes every stream's socket.
  void close_streams();

  // What this side sends in EXCHANGE_RESULTS.
  TestResults local_results() const;
  void set_remote_results(TestResults remote) { remote_ = std::move(remote); }
  const TestResults& remote_results() const noexcept { return remote_; }

  // The end's entries: ours and the peer's, stream by stream (by id).
  std::vector<StreamEnd> ends() const;
  nlohmann::json end_json() const;
  std::string end_text() const;
  const std::vector<nlohmann::json>& intervals_json() const noexcept { return intervals_; }

 private:
  void take_interval(Clock::time_point now);
  double since_start(Clock::time_point t) const;

  EventLoop* loop_;
  TestParameters params_;
  bool we_send_;
  bool server_;
  double interval_;
  std::uint32_t block_size_;
  SendBudget budget_;
  std::vector<std::unique_ptr<Stream>> streams_;
  bool started_ = false;
  bool finished_ = false;
  Clock::time_point start_{};
  Clock::time_point last_{};
  TimerId interval_timer_;
  std::vector<StreamCounters> previous_;  // per stream, at the last interval
  // Per stream, when the omitted seconds (-O) ended: the totals count from there.
  std::vector<StreamCounters> omitted_;
  std::vector<std::uint32_t> omitted_retransmits_;
  TimerId omit_timer_;
  std::vector<std::uint32_t> previous_retransmits_;
  std::vector<TcpSummary> tcp_;
  std::vector<StreamSample> totals_;  // per stream, filled by finish()
  std::vector<nlohmann::json> intervals_;
  TestResults remote_;
  rusage usage_start_{};
  double cpu_[3] = {0, 0, 0};
  std::string congestion_used_;
  std::function<void(const Interval&)> interval_cb_;
  std::function<void(const std::string&)> failure_cb_;
  std::function<void()> budget_cb_;
};

}  // namespace duplex::apps::perf
