#include "duplex/link/arp_scan.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "duplex/base/error.h"
#include "duplex/link/arp_frame.h"
#include "duplex/link/packet_socket.h"

namespace duplex::link {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

ArpScanResult arp_scan(const ArpScanOptions& o,
                       const std::function<void(const ArpScanHost&)>& on_host) {
  if (!o.prefix.address().is_v4())
    throw Error("ARP scans IPv4 prefixes only; " + o.prefix.to_string() + " is IPv6");
  const auto count = o.prefix.host_count();
  if (!count || *count > ArpScanOptions::kMaxAddresses)
    throw Error(o.prefix.to_string() + " is too large to sweep: at most " +
                std::to_string(ArpScanOptions::kMaxAddresses) +
                " addresses (a /16) per scan; split it with `duplex ip split`");
  if (o.rate == 0) throw Error("the scan rate must be at least 1 request per second");
  ArpScanResult result;
  auto source = o.source ? o.source : o.interface.source_for(o.prefix.network());
  if (!source)
    throw Error(o.interface.name + " has no IPv4 address to send ARP requests from; add one");
  result.source = *source;

  std::vector<inet::Address> pending;
  for (auto ip = o.prefix.first_host();; ip = ip + 1) {
    if (ip != *source) pending.push_back(ip);
    if (ip == o.prefix.last_host()) break;
  }
  result.addresses = pending.size();

  PacketSocket socket(o.interface.index);
  std::unordered_map<inet::Address, Clock::time_point> asked;  // the latest request per IP
  std::vector<std::pair<inet::Address, MacAddress>> seen;
  std::unordered_set<inet::Address> answered;
  std::array<std::uint8_t, 1600> buffer{};
  const auto gap = std::chrono::nanoseconds(1'000'000'000 / o.rate);

  auto drain = [&](Clock::time_point until) {
    while (true) {
      if (o.stop && o.stop()) {
        result.interrupted = true;
        return;
      }
      const auto now = Clock::now();
      if (now >= until) return;
      if (!socket.wait(until - now)) continue;
      while (auto got = socket.receive(buffer)) {
        if (got->outgoing) continue;
        ArpFrame f;
        if (ArpFrame::decode(std::span(buffer.data(), got->size), f) != ArpError::none) continue;
        if (f.op != ArpOp::reply || f.target_ip != *source) continue;
        auto it = asked.find(f.sender_ip);
        if (it == asked.end()) continue;  // not an address we asked about
        const auto key = std::make_pair(f.sender_ip, f.sender_mac);
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
        seen.push_back(key);
        answered.insert(f.sender_ip);
        ArpScanHost h{f.sender_ip, f.sender_mac, Clock::now() - it->second};
        result.hosts.push_back(h);
        if (on_host) on_host(h);
      }
    }
  };

  // Each address gets `wait` to answer before it is asked again (arp-scan's per-host
  // timeout): a pass longer than `wait` needs no pause before the next, and one that is
  // shorter waits only as long as its first addresses need. After the last pass, the last
  // request gets its full `wait`.
  const unsigned rounds = std::max(1u, o.rounds);
  for (unsigned round = 0; round < rounds && !result.interrupted; ++round) {
    if (round > 0) {
      std::erase_if(pending, [&](const inet::Address& ip) { return answered.contains(ip); });
      if (pending.empty()) break;
    }
    auto next = Clock::now();
    for (const auto& ip : pending) {
      drain(round > 0 ? std::max(next, asked[ip] + o.wait) : next);
      if (result.interrupted) break;
      if (answered.contains(ip)) continue;  // a late reply came while we waited
      const auto wire = ArpFrame::request(o.interface.mac, *source, ip).encode();
      if (int err = socket.send(wire); err != 0) {
        // A full transmit queue is worth a pause, not the end of the scan.
        if (err != ENOBUFS && err != EAGAIN)
          throw Error("cannot send an ARP frame on " + o.interface.name + ": " +
                      std::strerror(err));
      } else {
        ++result.sent;
      }
      asked[ip] = Clock::now();
      next = Clock::now() + gap;
    }
    if (!result.interrupted && round + 1 == rounds) drain(Clock::now() + o.wait);
  }
  std::sort(result.hosts.begin(), result.hosts.end(), [](const auto& a, const auto& b) {
    return std::tie(a.ip, a.mac) < std::tie(b.ip, b.mac);
  });
  return result;
}

}  // namespace duplex::link
