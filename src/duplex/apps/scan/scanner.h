// Public. The scan engine on the reactor: one non-blocking socket per probe, thousands in
// flight, a per-host RTT that sets each probe's timeout, a retry for a probe that timed out,
// and an optional rate. Hosts are not pinged first: every target is scanned, as nmap -Pn.
//
// TCP (a connect scan): connect() without blocking; the connection made is open (and reset
// at once, SO_LINGER 0, so a large scan leaves no TIME_WAIT behind), ECONNREFUSED is
// closed, an ICMP error (EHOSTUNREACH, ENETUNREACH...) or a timeout after the retries is
// filtered. A socket whose probe was refused is connect()ed again for the next probe
// (Linux allows it once the error is read), so a closed port costs two connect() calls and
// no socket of its own. The time from connect() to the answer is an RTT sample for the host (first
// tries only, Karn's rule); a retry waits twice as long as the try before it. With `banner`, an
// open port's socket is kept for up to `banner_wait`: what the service says first is kept, or, when
// it says nothing for half of that, the answer to a minimal HTTP request (banner.h).
//
// The probes go host by host in the order given; each host's result is handed to on_host()
// in that order once all its ports have a state, so output can stream.
//
// Threading: a Scanner belongs to its loop's thread; construct, start and destroy it there.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "duplex/apps/scan/scan_result.h"
#include "duplex/inet/endpoint.h"
#include "duplex/reactor/event_loop.h"

namespace duplex {
class Channel;
}

namespace duplex::scan {

class SynSocket;
struct SynAnswer;

struct ScanOptions {
  Protocol protocol = Protocol::tcp;
  std::size_t max_inflight = 1024;  // sockets open at once (see probe_fd_budget())
  double rate = 0;                  // probes a second; 0: as fast as the sockets allow
  unsigned retries = 1;             // more tries for a probe that timed out
  RttLimits rtt;
  bool banner = false;
  std::chrono::milliseconds banner_wait{2000};
  // TCP only: a SYN scan through raw sockets (syn_socket.h) instead of connect().
  bool syn = false;
};

struct ScanProgress {
  std::uint64_t done = 0, total = 0;  // ports with a state, of hosts x ports
  std::uint64_t open = 0;
  std::size_t inflight = 0;
  std::size_t hosts_done = 0, hosts = 0;
};

class Scanner {
 public:
  using HostCallback = std::function<void(HostResult)>;

  Scanner(EventLoop& loop, std::vector<Target> targets, std::vector<std::uint16_t> ports,
          ScanOptions options);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  void on_host(HostCallback cb) { on_host_ = std::move(cb); }
  void on_done(std::function<void()> cb) { on_done_ = std::move(cb); }

  // Starts probing; on_done() runs after the last host's result (at once for no targets).
  // Throws duplex::Error when a SYN scan cannot open its raw sockets.
  void start();
  // Closes every probe in flight; no further callbacks.
  void stop();

  ScanProgress progress() const noexcept;

 private:
  struct Host;
  struct Slot;
  struct Work {
    std::uint32_t host;
    std::uint32_t port;  // index into ports_
    std::uint8_t attempt;
  };

  bool next_work(Work& w);
  void launch_more();
  void launch(std::uint32_t slot, const Work& w);
  void start_syn();
  bool launch_syn(std::uint32_t slot, const Work& w);
  void on_syn_answer(const SynAnswer& a);
  void grow_window(Clock::time_point now);
  std::uint64_t syn_key(std::uint32_t host, std::uint16_t port) const noexcept {
    return (std::uint64_t{host} << 16) | port;
  }
  void on_ready(std::uint32_t slot);
  void reuse(std::uint32_t slot, PortOutcome outcome);
  inet::Endpoint endpoint_of(const Work& w) const;
  void on_banner(std::uint32_t slot);
  void on_tick();
  void expire(std::uint32_t slot, Clock::time_point now);
  void finish(std::uint32_t slot, PortOutcome outcome);
  void settle(const Work& w, PortOutcome outcome);
  void release(std::uint32_t slot);
  void schedule_pump();
  void report_ready_hosts();
  Clock::duration timeout_for(const Work& w) const;

  EventLoop& loop_;
  ScanOptions options_;
  std::vector<std::uint16_t> ports_;
  std::vector<Host> hosts_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::deque<Work> retries_;
  std::uint32_t cursor_host_ = 0, cursor_port_ = 0;
  std::size_t next_report_ = 0;
  double tokens_ = 0;
  Clock::time_point last_refill_{};
  TimerId tick_{};
  bool running_ = false, pump_queued_ = false, stalled_ = false;
  std::uint64_t done_ = 0, open_ = 0;
  std::size_t inflight_ = 0, hosts_done_ = 0;
  // Slow start of the probes in flight (scanner.cc, kInitialWindow): the window, whether it
  // was full since the last tick, and the loop thread's CPU time and the clock then.
  std::size_t window_ = 0;
  bool window_full_ = false;
  std::int64_t window_cpu_ns_ = 0;
  Clock::time_point window_since_{};
  HostCallback on_host_;
  std::function<void()> on_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // A SYN scan: the raw sockets, and how an answer finds its probe's slot.
  std::unique_ptr<SynSocket> syn_;
  std::vector<std::unique_ptr<Channel>> syn_channels_;  // one per raw socket
  std::unordered_map<inet::Address, std::uint32_t> host_index_;
  std::unordered_map<std::uint64_t, std::uint32_t> syn_slots_;
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit and returns how many probe sockets fit
// under it, leaving 64 descriptors for the rest of the process.
std::size_t probe_fd_budget() noexcept;

}  // namespace duplex::scan
