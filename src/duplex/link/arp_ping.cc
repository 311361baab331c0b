#include "duplex/link/arp_ping.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "duplex/base/error.h"
#include "duplex/link/arp_frame.h"
#include "duplex/link/packet_socket.h"

namespace duplex::link {
namespace {

using Clock = std::chrono::steady_clock;

ArpFrame frame_for(const ArpPingOptions& o, const inet::Address& source) {
  const MacAddress& mac = o.interface.mac;
  switch (o.mode) {
    case ArpPingMode::dad:
      return ArpFrame::probe(mac, o.target);
    case ArpPingMode::gratuitous_request:
      return ArpFrame::gratuitous_request(mac, o.target);
    case ArpPingMode::gratuitous_reply:
      return ArpFrame::gratuitous_reply(mac, o.target);
    case ArpPingMode::request:
      break;
  }
  return ArpFrame::request(mac, source, o.target);
}

// Whether `f` answers our question. In DAD mode any host that claims the target answers it
// (Linux replies to a probe with target IP 0.0.0.0, and an announcement counts as a claim),
// and so does another host probing for the same address at the same time (RFC 5227 2.1.1).
bool answers(const ArpPingOptions& o, const inet::Address& source, const ArpFrame& f) {
  if (f.sender_mac == o.interface.mac) return false;
  if (o.mode == ArpPingMode::dad)
    return f.sender_ip == o.target || (f.is_probe() && f.target_ip == o.target);
  return f.sender_ip == o.target && f.op == ArpOp::reply && f.target_ip == source;
}

}  // namespace

ArpPingSummary arp_ping(const ArpPingOptions& o,
                        const std::function<void(const ArpPingReply&)>& on_reply) {
  ArpPingSummary summary;
  const bool gratuitous =
      o.mode == ArpPingMode::gratuitous_request || o.mode == ArpPingMode::gratuitous_reply;
  if (o.mode == ArpPingMode::request) {
    auto source = o.source ? o.source : o.interface.source_for(o.target);
    if (!source)
      throw Error(o.interface.name +
                  " has no IPv4 address to send ARP requests from; add one, or use --dad");
    summary.source = *source;
  } else if (o.mode == ArpPingMode::dad) {
    summary.source = inet::Address::v4(0);
  } else {
    summary.source = o.target;
  }

  PacketSocket socket(o.interface.index);
  const ArpFrame request = frame_for(o, summary.source);
  const auto wire = request.encode();
  std::array<std::uint8_t, 1600> buffer{};

  const auto start = Clock::now();
  const auto end = o.deadline ? start + *o.deadline : Clock::time_point::max();
  // With a deadline, -c counts replies (arping's rule); without, it counts requests.
  const bool count_replies = o.deadline.has_value() && o.count > 0;
  Clock::time_point last_sent{};
  Clock::time_point next_send = start;
  std::optional<Clock::time_point> drain_until;  // after the last request: wait for answers

  while (true) {
    if (o.stop && o.stop()) {
      summary.interrupted = true;
      break;
    }
    const auto now = Clock::now();
    if (now >= end) break;
    if (drain_until && now >= *drain_until) break;
    if (count_replies && summary.received >= o.count) break;
    if (o.mode == ArpPingMode::dad && summary.received > 0) break;

    if (!drain_until && now >= next_send) {
      if (int err = socket.send(wire); err != 0)
        throw Error("cannot send an ARP frame on " + o.interface.name + ": " + std::strerror(err));
      last_sent = Clock::now();
      ++summary.sent;
      next_send = last_sent + o.interval;
      const bool last = !count_replies && o.count > 0 && summary.sent >= o.count;
      // After the last request, wait one interval (at least a second) for late replies;
      // gratuitous frames expect no answer, so there is nothing to wait for.
      if (last)
        drain_until = gratuitous ? last_sent
                                 : last_sent + std::max<std::chrono::nanoseconds>(
                                                   o.interval, std::chrono::seconds(1));
      continue;
    }

    auto wake = drain_until ? *drain_until : next_send;
    wake = std::min(wake, end);
    if (!socket.wait(wake - Clock::now())) continue;
    while (auto got = socket.receive(buffer)) {
      if (got->outgoing || gratuitous) continue;
      ArpFrame f;
      if (ArpFrame::decode(std::span(buffer.data(), got->size), f) != ArpError::none) continue;
      if (!answers(o, summary.source, f)) continue;
      ArpPingReply r;
      r.seq = summary.sent;
      r.probe = f.is_probe();
      r.ip = r.probe ? f.target_ip : f.sender_ip;
      r.mac = f.sender_mac;
      r.ethernet = f.source;
      r.broadcast = f.destination.is_broadcast();
      r.rtt = Clock::now() - last_sent;
      ++summary.received;
      if (std::find(summary.macs.begin(), summary.macs.end(), r.mac) == summary.macs.end())
        summary.macs.push_back(r.mac);
      if (on_reply) on_reply(r);
    }
  }
  return summary;
}

}  // namespace duplex::link
