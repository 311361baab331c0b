// Public. A bump in the wire: forwards every frame between two interfaces (AF_PACKET,
// batched with recvmmsg/sendmmsg) and impairs each direction on its own (Impairment).
//
// It runs on an EventLoop: each socket is a Channel, and one timerfd, armed for the
// earliest frame held in either direction, releases the delayed ones. Loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/impair/impairment.h"
#include "duplex/link/packet_socket.h"
#include "duplex/reactor/channel.h"

namespace duplex {
class EventLoop;
}

namespace duplex::impair {

struct LaneStats {
  Counters impair;
  std::uint64_t kernel_drops = 0;  // our receive buffer overflowed: the kernel dropped them
  std::uint64_t send_drops = 0;    // the outgoing interface refused them for too long
  std::uint64_t too_long = 0;      // longer than our receive buffers (jumbo frames)
};

// "a -> b: 100000 in, 98012 out, 1988 lost (1.99%) ..." for the end of a run.
std::string describe(const LaneStats& stats);

// Moves the calling process to SCHED_FIFO priority `priority`, so that a delayed frame
// leaves on time on a busy machine (a normal process may wait milliseconds for a core).
// The kernel's RT throttling still leaves others 5% of each core. Throws duplex::Error
// without CAP_SYS_NICE.
void use_realtime_priority(int priority);

class Forwarder {
 public:
  // Opens both packet sockets (throws duplex::Error: CAP_NET_RAW, a missing interface).
  // `a_to_b` impairs what arrives on interface `a` on its way out of `b`.
  Forwarder(EventLoop* loop, unsigned ifindex_a, unsigned ifindex_b, const Directions& impair,
            std::uint64_t seed);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  LaneStats stats_a_to_b() { return stats(*lanes_[0]); }
  LaneStats stats_b_to_a() { return stats(*lanes_[1]); }

 private:
  struct Lane {
    Lane(link::PacketSocket* from, link::PacketSocket* to, const Spec& spec, std::uint64_t seed)
        : in(from), out(to), engine(spec, seed) {}
    link::PacketSocket* in;
    link::PacketSocket* out;
    Channel* out_channel = nullptr;
    Impairment engine;
    std::vector<Impairment::Frame> pending;  // due, waiting for the outgoing socket
    std::uint64_t kernel_drops = 0;
    std::uint64_t send_drops = 0;
    std::uint64_t too_long = 0;
  };

  void receive(Lane& lane);
  void flush(Lane& lane, Nanos now);
  void send_pending(Lane& lane);
  void writable(Lane& lane);
  void on_timer();
  void arm_timer();
  LaneStats stats(Lane& lane);

  EventLoop* loop_;
  link::PacketSocket socket_a_;
  link::PacketSocket socket_b_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::vector<std::uint8_t> storage_;  // receive buffers, one slot per frame of a batch
  int timerfd_ = -1;
  Nanos armed_{-1};  // when the timerfd fires next; -1: disarmed
  std::unique_ptr<Channel> channel_a_, channel_b_, timer_channel_;
};

}  // namespace duplex::impair
