#include "duplex/apps/capture/tcp_tracker.h"

namespace duplex::capture {
namespace {

// Sequence numbers wrap: a is after b when the signed distance is positive (RFC 9293 3.4).
bool after(std::uint32_t a, std::uint32_t b) noexcept {
  return static_cast<std::int32_t>(a - b) > 0;
}

}  // namespace

std::optional<TcpSegment> TcpTracker::add(const DecodedPacket& p, double time) {
  if (!p.has(Protocol::tcp) || p.tcp.header_length == 0) return std::nullopt;
  const auto& t = p.tcp;
  const Directed d = conversation_of(p);
  auto it = conversations_.find(d.key);
  if (it == conversations_.end()) {
    if (conversations_.size() >= kMaxConversations) {
      ++untracked_;
      return std::nullopt;
    }
    it = conversations_.emplace(d.key, TcpConversation{}).first;
    it->second.key = d.key;
    it->second.order = conversations_.size();
  }
  TcpConversation& c = it->second;
  TcpDirection& own = c.direction[d.reversed ? 1 : 0];
  const TcpDirection& other = c.direction[d.reversed ? 0 : 1];

  const bool syn = t.has(transport::kTcpSyn);
  const bool ack = t.has(transport::kTcpAck);
  const bool fin = t.has(transport::kTcpFin);
  if (syn && !ack && !c.syn) {
    c.syn = time;
    c.client_is_first = !d.reversed;
  } else if (syn && ack && c.syn && !c.syn_ack) {
    c.syn_ack = time;
  } else if (!syn && ack && c.syn_ack && !c.ack && d.reversed != c.client_is_first) {
    c.ack = time;
  }
  if (t.has(transport::kTcpRst)) c.reset = true;
  if (fin) own.fin = true;

  if (syn || !own.has_base) {
    own.base = t.sequence;
    own.has_base = true;
  }
  TcpSegment s;
  s.reversed = d.reversed;
  // SYN and FIN each take one sequence number.
  const std::uint32_t length = t.payload_length + (syn ? 1u : 0u) + (fin ? 1u : 0u);
  if (length > 0) {
    const std::uint32_t end = t.sequence + length;
    if (own.has_next && !after(end, own.next)) {
      s.retransmission = true;
      ++own.retransmissions;
    } else if (!own.has_next || after(end, own.next)) {
      own.next = end;
      own.has_next = true;
    }
  }
  ++own.packets;
  if (!s.retransmission) own.payload_bytes += t.payload_length;
  s.relative_seq = t.sequence - own.base;
  if (ack && other.has_base) s.relative_ack = t.acknowledgment - other.base;
  return s;
}

}  // namespace duplex::capture
