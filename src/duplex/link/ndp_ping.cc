// ndp_ping (neighbour solicitation, DAD) and ndp_routers (router solicitation) over NdpLink.
#include <algorithm>

#include "duplex/base/error.h"
#include "duplex/link/ndp.h"

namespace duplex::link {
namespace {

using Clock = NdpLink::Clock;

std::optional<MacAddress> mac_option(const inet::NdpMessage& m, std::uint8_t type) {
  const auto data = inet::ndp_option(m, type);
  if (data.size() < 6) return std::nullopt;
  MacAddress::Bytes b{};
  std::copy_n(data.begin(), 6, b.begin());
  return MacAddress(b);
}

// The reply that `r` is to our question, if it is one.
std::optional<NdpPingReply> answer(const NdpPingOptions& o, const NdpLink::Received& r) {
  const inet::Icmpv6Header& h = r.message.icmp;
  if (h.target != o.target) return std::nullopt;
  NdpPingReply reply;
  if (h.type == inet::kIcmpv6NeighborSolicitation) {
    // Another node's DAD for the same address (RFC 4862 5.4.3); a solicitation from an
    // address is an ordinary resolution, no claim.
    if (o.mode != NdpPingMode::dad || !r.message.ip.source.is_unspecified()) return std::nullopt;
    reply.advertisement = false;
  } else if (h.type != inet::kIcmpv6NeighborAdvertisement) {
    return std::nullopt;
  }
  reply.source = r.message.ip.source;
  reply.mac = mac_option(r.message, inet::kNdpTargetLinkAddress);
  reply.ethernet = r.ethernet_source;
  reply.router = h.router;
  reply.solicited = h.solicited;
  reply.override_flag = h.override_flag;
  return reply;
}

}  // namespace

NdpPingSummary ndp_ping(NdpLink& link, const NdpPingOptions& o,
                        const std::function<void(const NdpPingReply&)>& on_reply) {
  NdpPingSummary summary;
  const bool dad = o.mode == NdpPingMode::dad;
  std::vector<std::uint8_t> packet;
  if (dad) {
    summary.source = inet::Address::parse("::");
    packet = inet::encode_neighbor_solicitation(summary.source, o.target, {});
    link.join(inet::solicited_node(o.target));  // another node's probe goes there
  } else {
    const auto source = link.link_local();
    if (!source)
      throw Error(link.interface().name +
                  " has no IPv6 link-local address to solicit from (is IPv6 off, or is the "
                  "address still tentative?)");
    summary.source = *source;
    packet = inet::encode_neighbor_solicitation(*source, o.target, link.interface().mac.bytes());
  }
  link.join(inet::all_nodes());  // advertisements to an unspecified source come there

  Clock::time_point sent_at{};
  while (o.count == 0 || summary.sent < o.count) {
    if (o.stop && o.stop()) {
      summary.interrupted = true;
      break;
    }
    link.send(packet, inet::solicited_node(o.target));
    sent_at = Clock::now();
    ++summary.sent;
    const auto until = sent_at + o.interval;
    bool done = false;
    while (auto r = link.receive(until, o.stop)) {
      auto reply = answer(o, *r);
      if (!reply) continue;
      reply->seq = summary.sent;
      reply->rtt = r->at - sent_at;
      ++summary.received;
      const MacAddress mac = reply->mac.value_or(reply->ethernet);
      if (std::find(summary.macs.begin(), summary.macs.end(), mac) == summary.macs.end())
        summary.macs.push_back(mac);
      if (on_reply) on_reply(*reply);
      if (dad || o.stop_at_first) {
        done = true;
        break;
      }
    }
    if (done) break;
  }
  if (o.stop && o.stop()) summary.interrupted = true;
  return summary;
}

unsigned ndp_routers(NdpLink& link, const RouterSolicitOptions& o,
                     const std::function<void(const RouterAdvertisement&)>& on_advert) {
  const auto source = link.link_local();
  const auto packet = source
                          ? inet::encode_router_solicitation(*source, link.interface().mac.bytes())
                          : inet::encode_router_solicitation(inet::Address::parse("::"), {});
  link.join(inet::all_nodes());
  unsigned received = 0;
  std::vector<inet::Address> routers;  // each reported once: its solicited and periodic RAs
  for (unsigned sent = 0; received == 0 && (o.count == 0 || sent < o.count); ++sent) {
    if (o.stop && o.stop()) break;
    link.send(packet, inet::all_routers());
    const auto sent_at = Clock::now();
    while (auto r = link.receive(sent_at + o.interval, o.stop)) {
      const inet::Icmpv6Header& h = r->message.icmp;
      if (h.type != inet::kIcmpv6RouterAdvertisement) continue;
      if (std::find(routers.begin(), routers.end(), r->message.ip.source) != routers.end())
        continue;
      routers.push_back(r->message.ip.source);
      RouterAdvertisement a;
      a.source = r->message.ip.source;
      a.ethernet = r->ethernet_source;
      a.hop_limit = h.cur_hop_limit;
      a.managed = h.managed();
      a.other = h.other_config();
      a.home_agent = (h.ra_flags & 0x20) != 0;
      a.preference = h.preference();
      a.proxy = (h.ra_flags & 0x04) != 0;  // RFC 4389
      a.lifetime = h.router_lifetime;
      a.reachable_ms = h.reachable_time;
      a.retrans_ms = h.retrans_timer;
      a.prefixes = inet::ndp_prefixes(r->message);
      a.mtu = inet::ndp_mtu(r->message);
      a.dns_servers = inet::ndp_dns_servers(r->message);
      a.source_mac = mac_option(r->message, inet::kNdpSourceLinkAddress);
      a.rtt = r->at - sent_at;
      ++received;
      if (on_advert) on_advert(a);
    }
  }
  return received;
}

}  // namespace duplex::link
