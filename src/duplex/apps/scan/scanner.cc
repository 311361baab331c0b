#include "duplex/apps/scan/scanner.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "duplex/apps/scan/banner.h"
#include "duplex/apps/scan/probe.h"
#include "duplex/apps/scan/syn_socket.h"
#include "duplex/reactor/channel.h"

namespace duplex::scan {

using namespace std::chrono_literals;

namespace {
// How often timeouts are checked and a rate's tokens refilled: well under the smallest
// timeout (RttLimits::min), and cheap: one pass over the slots.
constexpr auto kTick = 10ms;
// The window of probes in flight starts here and doubles, up to --max-inflight, after a tick
// in which it was full while the loop had time to spare (under kBusy of the tick on the CPU):
// on a fast LAN the kernel answers most connect()s inside the call, the scan is CPU-bound
// from the start, and a small window is cheaper (fewer live sockets for both kernels to
// look up: 1024 took 15-20 % longer than 64 for all ports of a veth neighbour); a slow path
// leaves the loop waiting, and the window grows as TCP's slow start does.
constexpr std::size_t kInitialWindow = 64;
constexpr double kBusy = 0.8;

std::int64_t thread_cpu_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
constexpr std::size_t kBannerMax = 512;
// Probes launched per turn of the loop. A connect() costs tens of microseconds (on loopback
// the whole handshake runs inside it), so 1024 in a row would hold the loop for tens of
// milliseconds and every answer meanwhile would be measured as that much RTT.
constexpr std::size_t kLaunchBatch = 32;
}  // namespace

struct Scanner::Host {
  Target target;
  std::optional<inet::Address> source;  // a SYN scan's source address towards it
  std::vector<PortOutcome> outcomes;    // made when the host's first probe goes out
  std::vector<std::string> banners;
  RttEstimator rtt;
  std::uint32_t remaining = 0;  // ports without a state yet
  bool started = false;
};

struct Scanner::Slot {
  Socket socket;
  std::unique_ptr<Channel> channel;  // declared after the socket: leaves the loop first
  Work work{};
  Clock::time_point sent{};
  bool busy = false;
  // --banner: an open TCP port kept to read what it says.
  bool reading_banner = false, asked_http = false;
  Clock::time_point banner_deadline{};
  std::string banner;
};

Scanner::Scanner(EventLoop& loop, std::vector<Target> targets, std::vector<std::uint16_t> ports,
                 ScanOptions options)
    : loop_(loop), options_(options), ports_(std::move(ports)) {
  hosts_.resize(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    hosts_[i].target = std::move(targets[i]);
    hosts_[i].rtt = RttEstimator(options_.rtt);
  }
  options_.max_inflight = std::max<std::size_t>(options_.max_inflight, 1);
  slots_.resize(options_.max_inflight);
  free_.reserve(slots_.size());
  for (std::size_t i = slots_.size(); i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
}

Scanner::~Scanner() {
  stop();
  syn_channels_.clear();
  *alive_ = false;
}

void Scanner::start() {
  running_ = true;
  last_refill_ = Clock::now();
  tokens_ = 1;
  if (hosts_.empty() || ports_.empty()) {
    hosts_done_ = hosts_.size();
    running_ = false;
    if (on_done_) on_done_();
    return;
  }
  if (options_.syn) start_syn();
  window_ = std::min(kInitialWindow, slots_.size());
  window_cpu_ns_ = thread_cpu_ns();
  window_since_ = Clock::now();
  std::weak_ptr<bool> alive = alive_;
  tick_ = loop_.run_every(kTick, [this, alive] {
    if (!alive.expired()) on_tick();
  });
  launch_more();
}

void Scanner::stop() {
  // The raw sockets' channels stay until the destructor: stop() may run inside their reads.
  for (auto& c : syn_channels_) c->disable_all();
  syn_slots_.clear();
  if (tick_) loop_.cancel(tick_);
  tick_ = {};
  running_ = false;
  for (auto& s : slots_) {
    s.channel.reset();
    s.socket = Socket();
    s.busy = false;
  }
  inflight_ = 0;
}

ScanProgress Scanner::progress() const noexcept {
  ScanProgress p;
  p.done = done_;
  p.total = static_cast<std::uint64_t>(hosts_.size()) * ports_.size();
  p.open = open_;
  p.inflight = inflight_;
  p.hosts_done = hosts_done_;
  p.hosts = hosts_.size();
  return p;
}

bool Scanner::next_work(Work& w) {
  if (!retries_.empty()) {
    w = retries_.front();
    retries_.pop_front();
    return true;
  }
  if (cursor_host_ >= hosts_.size()) return false;
  Host& h = hosts_[cursor_host_];
  if (!h.started) {
    h.started = true;
    h.outcomes.assign(ports_.size(), PortOutcome{});
    if (options_.banner) h.banners.assign(ports_.size(), {});
    h.remaining = static_cast<std::uint32_t>(ports_.size());
  }
  w = {cursor_host_, cursor_port_, 0};
  if (++cursor_port_ == ports_.size()) {
    cursor_port_ = 0;
    ++cursor_host_;
  }
  return true;
}

void Scanner::launch_more() {
  if (!running_ || stalled_) return;
  const auto now = Clock::now();
  if (options_.rate > 0) {
    const double burst =
        std::max(1.0, options_.rate * std::chrono::duration<double>(kTick).count());
    tokens_ = std::min(
        burst, tokens_ + options_.rate * std::chrono::duration<double>(now - last_refill_).count());
    last_refill_ = now;
  }
  for (std::size_t n = 0; !free_.empty() && running_ && !stalled_; ++n) {
    if (inflight_ >= window_) {
      window_full_ = true;
      break;
    }
    if (options_.rate > 0 && tokens_ < 1) break;
    if (n == kLaunchBatch) {
      schedule_pump();  // the rest after this round's answers
      break;
    }
    Work w;
    if (!next_work(w)) break;
    launch(free_.back(), w);
  }
}

void Scanner::launch(std::uint32_t i, const Work& w) {
  if (syn_) {
    if (!launch_syn(i, w)) {
      retries_.push_front(w);
      stalled_ = true;
    }
    return;
  }
  const inet::Endpoint to = endpoint_of(w);
  std::optional<PortOutcome> outcome;
  int err = 0;
  Socket s = start_probe(options_.protocol, to, outcome, &err);
  if (!s.valid()) {
    // Out of descriptors or local ports: this probe waits at the head of the line and
    // launching pauses until the next tick, when closed probes have given some back.
    retries_.push_front(w);
    stalled_ = true;
    return;
  }
  free_.pop_back();
  ++inflight_;
  if (options_.rate > 0) tokens_ -= 1;
  Slot& slot = slots_[i];
  slot.socket = std::move(s);
  slot.work = w;
  slot.sent = Clock::now();
  slot.busy = true;
  slot.reading_banner = slot.asked_http = false;
  slot.banner.clear();
  slot.channel = std::make_unique<Channel>(&loop_, slot.socket.fd());
  auto ready = [this, i] { on_ready(i); };
  if (options_.protocol == Protocol::tcp) {
    // Writable is every answer's sign: connected, or closed by a reset or an ICMP error
    // (the socket is then shut down both ways, which polls as writable). One callback, so
    // that an answer is read once even when it comes as ERR|HUP|OUT together.
    slot.channel->on_write(ready);
    slot.channel->enable_writing();
  } else {
    slot.channel->on_error(ready);
    slot.channel->on_close(ready);
    slot.channel->on_read(ready);
    slot.channel->enable_reading();
  }
  if (outcome) finish(i, *outcome);
}

inet::Endpoint Scanner::endpoint_of(const Work& w) const {
  return {hosts_[w.host].target.address, ports_[w.port]};
}

void Scanner::reuse(std::uint32_t i, PortOutcome outcome) {
  // The connect() that read the answer also disconnected the socket (inet_stream_connect
  // does so when it reports an error), so the next probe can connect() it again: no
  // socket(), epoll_ctl() or close() per closed port. An answer that comes back at once
  // (on a local link the reset is handled inside connect()) goes round again, a batch at most.
  const std::weak_ptr<bool> alive = alive_;
  for (std::size_t n = 0;; ++n) {
    settle(slots_[i].work, outcome);
    if (alive.expired() || !running_) return;  // the scan ended; stop() closed the slot
    Work next;
    if (n == kLaunchBatch || stalled_ || (options_.rate > 0 && tokens_ < 1) || !next_work(next))
      return release(i);
    Slot& slot = slots_[i];
    const inet::Endpoint to = endpoint_of(next);
    if (to.address().is_v4() != endpoint_of(slot.work).address().is_v4()) {
      release(i);  // another family: another socket
      return launch(free_.back(), next);
    }
    slot.work = next;
    slot.sent = Clock::now();
    if (options_.rate > 0) tokens_ -= 1;
    const int rc = slot.socket.connect(to);
    if (rc == EINPROGRESS) return;
    if (is_resource_error(rc)) {
      retries_.push_front(next);
      stalled_ = true;
      return release(i);
    }
    outcome = outcome_of(Protocol::tcp, rc);
    if (rc == 0) return finish(i, outcome);  // connected at once: the usual reset and close
  }
}

void Scanner::on_ready(std::uint32_t i) {
  Slot& slot = slots_[i];
  if (!slot.busy || slot.reading_banner) return;
  std::optional<PortOutcome> outcome;
  bool disconnected = false;
  if (options_.protocol == Protocol::tcp) {
    // connect() asked again answers as SO_ERROR would (0 once connected, EALREADY while the
    // handshake runs), and on an error it leaves the socket ready for another connect().
    const int err = slot.socket.connect(endpoint_of(slot.work));
    if (err == EALREADY || err == EINPROGRESS) return;
    outcome = outcome_of(Protocol::tcp, err == EISCONN ? 0 : err);
    disconnected = err != 0 && err != EISCONN;
    // A socket connected to its own address and port (TCP's simultaneous open, when the
    // scan reaches a local port that a probe of ours is bound to) found nothing listening.
    if (outcome->state == PortState::open && slot.socket.local_endpoint() == endpoint_of(slot.work))
      outcome = PortOutcome{PortState::closed, Reason::conn_refused};
  } else {
    outcome = read_udp_answer(slot.socket);
    if (!outcome) return;
  }
  if (slot.work.attempt == 0) {
    const auto rtt =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - slot.sent);
    hosts_[slot.work.host].rtt.sample(rtt);
  }
  if (disconnected) return reuse(i, *outcome);
  finish(i, *outcome);
}

void Scanner::finish(std::uint32_t i, PortOutcome outcome) {
  Slot& slot = slots_[i];
  const bool connected = options_.protocol == Protocol::tcp && outcome.state == PortState::open;
  if (connected && options_.banner && !slot.reading_banner) {
    slot.reading_banner = true;
    slot.banner_deadline = Clock::now() + options_.banner_wait;
    slot.channel->disable_writing();
    slot.channel->on_read([this, i] { on_banner(i); });
    slot.channel->enable_reading();
    return;
  }
  if (connected && slot.socket.valid()) {
    // Reset instead of FIN: no TIME_WAIT per open port, and the service sees a short visit.
    linger l{1, 0};
    ::setsockopt(slot.socket.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  if (slot.reading_banner) hosts_[slot.work.host].banners[slot.work.port] = std::move(slot.banner);
  const Work w = slot.work;
  release(i);
  settle(w, outcome);
}

void Scanner::on_banner(std::uint32_t i) {
  Slot& slot = slots_[i];
  if (!slot.busy) return;
  char buf[kBannerMax];
  const ssize_t n = ::recv(slot.socket.fd(), buf, kBannerMax - slot.banner.size(), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n > 0) slot.banner.append(buf, static_cast<std::size_t>(n));
  finish(i, {PortState::open, Reason::syn_ack});
}

void Scanner::on_tick() {
  const auto now = Clock::now();
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].busy) expire(i, now);
  }
  stalled_ = false;
  grow_window(now);
  launch_more();
}

void Scanner::grow_window(Clock::time_point now) {
  const std::int64_t cpu = thread_cpu_ns();
  const double wall = std::chrono::duration<double>(now - window_since_).count();
  const double busy = wall > 0 ? static_cast<double>(cpu - window_cpu_ns_) / 1e9 / wall : 1.0;
  window_cpu_ns_ = cpu;
  window_since_ = now;
  if (window_full_ && busy < kBusy) window_ = std::min(window_ * 2, slots_.size());
  window_full_ = false;
}

void Scanner::expire(std::uint32_t i, Clock::time_point now) {
  Slot& slot = slots_[i];
  if (slot.reading_banner) {
    if (now >= slot.banner_deadline) {
      finish(i, {PortState::open, Reason::syn_ack});
    } else if (!slot.asked_http && now >= slot.banner_deadline - options_.banner_wait / 2) {
      // Silent so far: many services wait for the client (HTTP above all).
      slot.asked_http = true;
      ::send(slot.socket.fd(), kHttpProbe.data(), kHttpProbe.size(), MSG_NOSIGNAL);
    }
    return;
  }
  if (now - slot.sent < timeout_for(slot.work)) return;
  const Work w = slot.work;
  release(i);
  if (w.attempt < options_.retries) {
    retries_.push_back({w.host, w.port, static_cast<std::uint8_t>(w.attempt + 1)});
    return;
  }
  settle(w, {options_.protocol == Protocol::tcp ? PortState::filtered : PortState::open_filtered,
             Reason::no_response});
}

// The host's timeout (the initial one until it answers), doubled for each retry as TCP backs
// off: a retry's answer is no RTT sample (Karn), so without the backoff a host whose RTT
// grew past its timeout would never be heard again.
Clock::duration Scanner::timeout_for(const Work& w) const {
  const auto base = hosts_[w.host].rtt.timeout();
  return std::min<Clock::duration>(base * (1 << std::min<unsigned>(w.attempt, 6)),
                                   options_.rtt.max);
}

void Scanner::release(std::uint32_t i) {
  Slot& slot = slots_[i];
  if (syn_) syn_slots_.erase(syn_key(slot.work.host, ports_[slot.work.port]));
  slot.channel.reset();
  slot.socket = Socket();
  slot.busy = false;
  slot.reading_banner = false;
  free_.push_back(i);
  --inflight_;
  schedule_pump();
}

void Scanner::settle(const Work& w, PortOutcome outcome) {
  Host& h = hosts_[w.host];
  h.outcomes[w.port] = outcome;
  ++done_;
  if (outcome.state == PortState::open) ++open_;
  if (--h.remaining == 0) {
    ++hosts_done_;
    report_ready_hosts();
  }
}

void Scanner::report_ready_hosts() {
  std::weak_ptr<bool> alive = alive_;
  while (next_report_ < hosts_.size() && hosts_[next_report_].started &&
         hosts_[next_report_].remaining == 0) {
    Host& h = hosts_[next_report_++];
    HostResult r;
    r.target = h.target;
    r.protocol = options_.protocol;
    r.ports = ports_;
    r.outcomes = std::move(h.outcomes);
    r.banners = std::move(h.banners);
    r.rtt = h.rtt;
    h.outcomes = {};
    if (on_host_) on_host_(std::move(r));
    if (alive.expired() || !running_) return;
  }
  if (next_report_ == hosts_.size()) {
    stop();
    if (on_done_) on_done_();
  }
}

void Scanner::schedule_pump() {
  if (pump_queued_ || !running_) return;
  pump_queued_ = true;
  std::weak_ptr<bool> alive = alive_;
  loop_.queue_in_loop([this, alive] {
    if (alive.expired()) return;
    pump_queued_ = false;
    launch_more();
  });
}

void Scanner::start_syn() {
  bool ipv4 = false, ipv6 = false;
  for (std::uint32_t i = 0; i < hosts_.size(); ++i) {
    host_index_.emplace(hosts_[i].target.address, i);
    (hosts_[i].target.address.is_v4() ? ipv4 : ipv6) = true;
  }
  syn_ = std::make_unique<SynSocket>(ipv4, ipv6);
  auto on_answer = [this](const SynAnswer& a) { on_syn_answer(a); };
  using Kind = SynSocket::Kind;
  for (const Kind kind : {Kind::tcp4, Kind::icmp4, Kind::tcp6, Kind::icmp6}) {
    if (syn_->fd(kind) < 0) continue;
    auto& channel = syn_channels_.emplace_back(std::make_unique<Channel>(&loop_, syn_->fd(kind)));
    channel->on_read([this, kind, on_answer] { syn_->read(kind, on_answer); });
    channel->enable_reading();
  }
}

// False when the machine is out of buffers: the probe waits for the next tick.
bool Scanner::launch_syn(std::uint32_t i, const Work& w) {
  Host& host = hosts_[w.host];
  if (!host.source) host.source = SynSocket::source_for(host.target.address);
  if (!host.source) {  // no route
    settle(w, {PortState::filtered, Reason::net_unreach});
    return true;
  }
  const int err = syn_->send_syn(*host.source, host.target.address, ports_[w.port]);
  if (err != 0 && is_resource_error(err)) return false;
  free_.pop_back();
  ++inflight_;
  if (options_.rate > 0) tokens_ -= 1;
  Slot& slot = slots_[i];
  slot.work = w;
  slot.sent = Clock::now();
  slot.busy = true;
  syn_slots_[syn_key(w.host, ports_[w.port])] = i;
  if (err != 0) finish(i, outcome_of(Protocol::tcp, err));
  return true;
}

void Scanner::on_syn_answer(const SynAnswer& a) {
  const auto host = host_index_.find(a.host);
  if (host == host_index_.end()) return;
  const auto slot = syn_slots_.find(syn_key(host->second, a.port));
  if (slot == syn_slots_.end()) return;  // a duplicate, or an answer after the timeout
  const std::uint32_t i = slot->second;
  if (slots_[i].work.attempt == 0) {
    hosts_[host->second].rtt.sample(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - slots_[i].sent));
  }
  finish(i, a.outcome);
}

std::size_t probe_fd_budget() noexcept {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 64;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  const rlim_t reserve = 64;
  return lim.rlim_cur > 2 * reserve ? static_cast<std::size_t>(lim.rlim_cur - reserve)
                                    : static_cast<std::size_t>(lim.rlim_cur / 2);
}

}  // namespace duplex::scan
