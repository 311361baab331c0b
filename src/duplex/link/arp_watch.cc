#include "duplex/link/arp_watch.h"

#include <algorithm>

namespace duplex::link {

std::string_view to_string(StationEventKind kind) noexcept {
  switch (kind) {
    case StationEventKind::new_station:
      return "new station";
    case StationEventKind::changed_ethernet_address:
      return "changed ethernet address";
    case StationEventKind::flip_flop:
      return "flip flop";
    case StationEventKind::reused_old_address:
      return "reused old ethernet address";
    case StationEventKind::ethernet_mismatch:
      return "ethernet mismatch";
    case StationEventKind::bogon:
      return "bogon";
  }
  return "unknown";
}

std::string_view to_key(StationEventKind kind) noexcept {
  switch (kind) {
    case StationEventKind::new_station:
      return "new_station";
    case StationEventKind::changed_ethernet_address:
      return "changed_ethernet_address";
    case StationEventKind::flip_flop:
      return "flip_flop";
    case StationEventKind::reused_old_address:
      return "reused_old_address";
    case StationEventKind::ethernet_mismatch:
      return "ethernet_mismatch";
    case StationEventKind::bogon:
      return "bogon";
  }
  return "unknown";
}

bool is_mac_change(StationEventKind kind) noexcept {
  return kind == StationEventKind::changed_ethernet_address ||
         kind == StationEventKind::flip_flop || kind == StationEventKind::reused_old_address;
}

ArpWatch::ArpWatch(StationDb& db, std::string dev, std::vector<inet::Prefix> subnets,
                   ArpWatchLimits limits)
    : db_(db),
      dev_(std::move(dev)),
      subnets_(std::move(subnets)),
      limits_(limits),
      tokens_(limits.burst) {}

bool ArpWatch::admit(const StationEvent& e) {
  if (is_mac_change(e.kind)) return true;
  // The quiet period per station: a host behind a proxy mismatches on every frame.
  if (e.kind == StationEventKind::ethernet_mismatch || e.kind == StationEventKind::bogon) {
    const std::string key = std::string(to_key(e.kind)) + ' ' + e.ip.to_string() + ' ' +
                            e.mac.to_string() + ' ' + e.ethernet.to_string();
    const auto quiet = std::chrono::duration_cast<std::chrono::microseconds>(limits_.quiet);
    auto it = last_reported_.find(key);
    if (it != last_reported_.end() && e.time - it->second < quiet.count()) {
      ++suppressed_;
      return false;
    }
    last_reported_[key] = e.time;
  }
  // A token bucket for everything else, so that a flood of forged senders cannot flood the
  // log (or fork a hook per frame).
  const double elapsed = static_cast<double>(std::max<std::int64_t>(0, e.time - tokens_at_)) / 1e6;
  tokens_at_ = std::max(tokens_at_, e.time);
  tokens_ = std::min<double>(limits_.burst, tokens_ + elapsed * limits_.per_second);
  if (tokens_ < 1.0) {
    ++suppressed_;
    return false;
  }
  tokens_ -= 1.0;
  return true;
}

std::vector<StationEvent> ArpWatch::observe(const ArpFrame& f, std::int64_t now) {
  // A probe (sender IP 0.0.0.0) claims nothing.
  if (f.sender_ip.to_uint32() == 0) return {};
  StationEvent claim;
  claim.time = now;
  claim.ip = f.sender_ip;
  claim.mac = f.sender_mac;
  claim.ethernet = f.source;
  claim.op = f.op;
  return observe_claim(claim);
}

std::vector<StationEvent> ArpWatch::observe(const inet::NdpMessage& m, const MacAddress& ethernet,
                                            std::int64_t now) {
  StationEvent claim;
  claim.time = now;
  claim.ethernet = ethernet;
  claim.ndp_type = m.icmp.type;
  const bool advertisement = m.icmp.type == inet::kIcmpv6NeighborAdvertisement;
  const auto option = inet::ndp_option(
      m, advertisement ? inet::kNdpTargetLinkAddress : inet::kNdpSourceLinkAddress);
  if (option.size() < 6) return {};  // no link-layer address: no claim (and from :: none)
  claim.ip = advertisement ? m.icmp.target : m.ip.source;
  if (claim.ip.is_unspecified()) return {};
  MacAddress::Bytes mac{};
  std::copy_n(option.begin(), 6, mac.begin());
  claim.mac = MacAddress(mac);
  return observe_claim(claim);
}

std::vector<StationEvent> ArpWatch::observe_claim(const StationEvent& claim) {
  std::vector<StationEvent> out;
  // A group or zero MAC is nobody.
  if (claim.mac.is_group() || claim.mac.is_zero()) return out;
  const std::int64_t now = claim.time;
  auto event = [&](StationEventKind kind) {
    StationEvent e = claim;
    e.kind = kind;
    e.dev = dev_;
    return e;
  };
  auto report = [&](StationEvent e) {
    if (!admit(e)) return;
    db_.log_event(e.time, e.dev, to_key(e.kind), e.ip, e.mac, e.old_mac ? &*e.old_mac : nullptr);
    out.push_back(std::move(e));
  };

  if (claim.mac != claim.ethernet) report(event(StationEventKind::ethernet_mismatch));
  const bool on_subnet = claim.ip.is_v6() || subnets_.empty() ||
                         std::any_of(subnets_.begin(), subnets_.end(),
                                     [&](const auto& p) { return p.contains(claim.ip); });
  if (!on_subnet) {
    // Not recorded as a station: an address that does not belong here is not one.
    report(event(StationEventKind::bogon));
    return out;
  }

  const auto history = db_.history(dev_, claim.ip);
  if (history.empty()) {
    report(event(StationEventKind::new_station));
  } else if (history.front().mac != claim.mac) {
    const auto known = std::find_if(history.begin(), history.end(),
                                    [&](const Station& s) { return s.mac == claim.mac; });
    auto e = event(known == history.end()         ? StationEventKind::changed_ethernet_address
                   : known == history.begin() + 1 ? StationEventKind::flip_flop
                                                  : StationEventKind::reused_old_address);
    e.old_mac = history.front().mac;
    report(std::move(e));
  }
  // The current station seen again within a few seconds needs no write: it stays the most
  // recent either way, and a busy link would otherwise write once per frame.
  constexpr std::int64_t kRefresh = 10'000'000;
  if (history.empty() || history.front().mac != claim.mac ||
      now - history.front().last_seen >= kRefresh)
    db_.touch(dev_, claim.ip, claim.mac, now);
  return out;
}

}  // namespace duplex::link
