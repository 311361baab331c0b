#include "duplex/apps/perf/perf_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>

#include "duplex/base/error.h"
#include "duplex/base/log.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps::perf {
namespace {

double cpu_seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

void set_int_option(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) < 0)
    throw Error(std::string(what) + " " + std::to_string(value) + ": " + errno_text(errno));
}

}  // namespace

Session::Session(EventLoop* loop, const TestParameters& params, bool we_send, bool server,
                 double interval, std::uint32_t control_mss)
    : loop_(loop),
      params_(params),
      we_send_(we_send),
      server_(server),
      interval_(interval),
      block_size_(params.block_size(control_mss)) {
  budget_.bytes_limit = params.num;
  budget_.blocks_limit = params.blockcount;
  budget_.on_spent = [this] {
    if (budget_cb_) budget_cb_();
  };
}

Session::~Session() {
  if (interval_timer_) loop_->cancel(interval_timer_);
  if (omit_timer_) loop_->cancel(omit_timer_);
}

Stream& Session::add_stream(Socket socket) {
  const int fd = socket.fd();
  if (params_.protocol == Protocol::kTcp) {
    if (!params_.congestion.empty()) {
      try {
        set_congestion(fd, params_.congestion);
      } catch (const Error& e) {
        if (!server_) throw;
        log::warn("perf", e.what(), "; the stream keeps the default");
      }
    }
    if (params_.nodelay) set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
  }
  if (params_.window != 0) {
    set_int_option(fd, SOL_SOCKET, SO_SNDBUF, static_cast<int>(params_.window), "SO_SNDBUF");
    set_int_option(fd, SOL_SOCKET, SO_RCVBUF, static_cast<int>(params_.window), "SO_RCVBUF");
  }
  StreamOptions options;
  options.protocol = params_.protocol;
  options.sender = we_send_;
  options.block_size = block_size_;
  options.rate = params_.bandwidth;
  options.counters_64bit = params_.udp_counters_64bit;
  options.budget = (params_.num || params_.blockcount) ? &budget_ : nullptr;
  streams_.push_back(
      std::make_unique<Stream>(loop_, std::move(socket), stream_id(streams_.size()), options));
  Stream& stream = *streams_.back();
  if (congestion_used_.empty()) congestion_used_ = stream.congestion();
  stream.on_failure([this](Stream& s, const std::string& why) {
    if (failure_cb_ && started_ && !finished_)
      failure_cb_("stream " + std::to_string(s.id()) + ": " + why);
  });
  return stream;
}

double Session::since_start(Clock::time_point t) const {
  return std::chrono::duration<double>(t - start_).count();
}

void Session::start() {
  if (started_) return;
  started_ = true;
  start_ = last_ = Clock::now();
  ::getrusage(RUSAGE_SELF, &usage_start_);
  previous_.assign(streams_.size(), StreamCounters{});
  previous_retransmits_.assign(streams_.size(), 0);
  tcp_.assign(streams_.size(), TcpSummary{});
  omitted_.assign(streams_.size(), StreamCounters{});
  omitted_retransmits_.assign(streams_.size(), 0);
  for (auto& s : streams_) s->start(start_);
  if (params_.omit > 0) {
    // iperf3's -O: the first seconds (slow start) are reported as omitted and left out of
    // the totals, which count from here.
    omit_timer_ = loop_->run_after(std::chrono::seconds(params_.omit), [this] {
      omit_timer_ = TimerId{};
      const auto now = Clock::now();
      for (std::size_t i = 0; i < streams_.size(); ++i) {
        streams_[i]->catch_up(now);
        omitted_[i] = streams_[i]->counters();
        if (auto ti = streams_[i]->tcp_info()) omitted_retransmits_[i] = ti->retransmits;
      }
      tcp_.assign(streams_.size(), TcpSummary{});
    });
  }
  if (interval_ > 0) {
    const auto every =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_));
    interval_timer_ = loop_->run_every(every, [this] { take_interval(Clock::now()); });
  }
}

void Session::take_interval(Clock::time_point now) {
  Interval interval;
  const double from = since_start(last_), to = since_start(now);
  const double omit = params_.omit;
  for (auto& s : streams_) s->catch_up(now);
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    const Stream& s = *streams_[i];
    const StreamCounters& c = s.counters();
    StreamSample sample;
    sample.id = s.id();
    sample.socket = s.fd() >= 0 ? s.fd() : sample.id;
    sample.start = from;
    sample.end = to;
    sample.sender = s.sender();
    // Omitted when it began within the omitted seconds (timers may fire a little late).
    sample.omitted = omit > 0 && from + 1e-3 < omit;
    sample.bytes = c.bytes - previous_[i].bytes;
    if (params_.protocol == Protocol::kUdp) {
      sample.packets = c.packets - previous_[i].packets;
      sample.lost = c.lost - previous_[i].lost;
      sample.out_of_order = c.out_of_order - previous_[i].out_of_order;
      sample.jitter = c.jitter;
    }
    if (s.sender()) {
      if (auto ti = s.tcp_info()) {
        sample.tcp_info = true;
        sample.retransmits = ti->retransmits - previous_retransmits_[i];
        previous_retransmits_[i] = ti->retransmits;
        sample.snd_cwnd = std::uint64_t{ti->cwnd_segments} * ti->mss;
        sample.snd_wnd = ti->snd_wnd;
        sample.rtt = ti->rtt_us;
        sample.rttvar = ti->rttvar_us;
        sample.pmtu = ti->pmtu;
        sample.delivery_rate = ti->delivery_rate * 8;
        tcp_[i].add(sample);
      }
    }
    previous_[i] = c;
    interval.push_back(sample);
  }
  last_ = now;
  if (interval.empty()) return;
  intervals_.push_back(interval_json(interval, params_.protocol));
  if (interval_cb_) interval_cb_(interval);
}

void Session::finish(bool drain) {
  if (finished_ || !started_) return;
  finished_ = true;
  if (interval_timer_) {
    loop_->cancel(interval_timer_);
    interval_timer_ = TimerId{};
  }
  if (omit_timer_) {  // the test ended within the omitted seconds: nothing is left out
    loop_->cancel(omit_timer_);
    omit_timer_ = TimerId{};
  }
  const auto now = Clock::now();
  for (auto& s : streams_) s->finish(now, drain);
  // The last, partial interval, unless it is a sliver with nothing in it (as iperf3).
  const double tail = std::chrono::duration<double>(now - last_).count();
  bool any = false;
  for (std::size_t i = 0; i < streams_.size(); ++i)
    any = any || streams_[i]->counters().bytes != previous_[i].bytes;
  if (interval_ > 0 && (any || tail >= interval_ * 0.1)) take_interval(now);
  if (interval_ == 0) take_interval(now);  // TCP_INFO for the totals
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const double wall = std::max(since_start(now), 1e-6);
  cpu_[1] = 100.0 * (cpu_seconds(usage.ru_utime) - cpu_seconds(usage_start_.ru_utime)) / wall;
  cpu_[2] = 100.0 * (cpu_seconds(usage.ru_stime) - cpu_seconds(usage_start_.ru_stime)) / wall;
  cpu_[0] = cpu_[1] + cpu_[2];
  totals_.clear();
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    const Stream& s = *streams_[i];
    StreamSample t;
    t.id = s.id();
    t.socket = s.fd() >= 0 ? s.fd() : t.id;
    t.sender = s.sender();
    const bool omitted = omitted_[i].bytes != 0 || omitted_[i].packets != 0;
    t.start = omitted ? params_.omit : 0;
    const auto stopped = s.stopped_at() != Clock::time_point{} ? s.stopped_at() : now;
    t.end = since_start(stopped);
    const StreamCounters& c = s.counters();
    const StreamCounters& o = omitted_[i];
    t.bytes = c.bytes - o.bytes;
    t.packets = c.packets - o.packets;
    t.lost = c.lost - o.lost;
    t.out_of_order = c.out_of_order - o.out_of_order;
    t.jitter = c.jitter;
    t.tcp_info = tcp_[i].rtt_samples > 0;
    t.retransmits = previous_retransmits_[i] - omitted_retransmits_[i];
    totals_.push_back(t);
  }
}

void Session::close_streams() {
  for (auto& s : streams_) s->close();
}

TestResults Session::local_results() const {
  TestResults r;
  r.cpu_util_total = cpu_[0];
  r.cpu_util_user = cpu_[1];
  r.cpu_util_system = cpu_[2];
  const bool tcp = params_.protocol == Protocol::kTcp;
  r.sender_has_retransmits = we_send_ ? (tcp ? 1 : 0) : -1;
  r.congestion_used = tcp ? congestion_used_ : "";
  for (const StreamSample& t : totals_) {
    StreamResult s;
    s.id = t.id;
    s.bytes = t.bytes;
    s.retransmits = (we_send_ && tcp) ? t.retransmits : -1;
    s.jitter = t.jitter;
    s.errors = we_send_ ? 0 : t.lost;
    s.packets = static_cast<std::int64_t>(t.packets);
    s.start_time = t.start;
    s.end_time = t.end;
    r.streams.push_back(s);
  }
  return r;
}

std::vector<StreamEnd> Session::ends() const {
  std::vector<StreamEnd> out;
  for (std::size_t i = 0; i < totals_.size(); ++i) {
    StreamEnd e;
    e.local = totals_[i];
    e.tcp = i < tcp_.size() ? tcp_[i] : TcpSummary{};
    for (const StreamResult& r : remote_.streams) {
      if (r.id == e.local.id) e.remote = r;
    }
    out.push_back(e);
  }
  return out;
}

nlohmann::json Session::end_json() const {
  return perf::end_json(ends(), params_.protocol, we_send_, local_results(), remote_);
}

std::string Session::end_text() const { return perf::end_text(ends(), params_.protocol, we_send_); }

}  // namespace duplex::apps::perf
