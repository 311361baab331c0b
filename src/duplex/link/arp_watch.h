// Public. A passive ARP monitor in the spirit of arpwatch (LBNL): it reads the ARP frames
// on a link, remembers which MAC claims which IPv4 address in a StationDb, and reports (for
// IPv6 stations the same, from neighbour discovery: an advertisement's target link-layer
// address claims its target, a solicitation's or router advertisement's source link-layer
// address its source; a solicitation from :: claims nothing):
//
//   new station               an IP seen for the first time
//   changed ethernet address  an IP now claimed by a MAC it never had
//   flip flop                 an IP back to the MAC it had just before (two stations, or a
//                             spoofer, fighting over one address)
//   reused old ethernet address  an IP back to a MAC it had earlier, not the last one
//   ethernet mismatch         the Ethernet source differs from the ARP sender MAC
//   bogon                     a sender IP outside every subnet of the interface (IPv4
//                             only: IPv6 stations have no subnet list to be checked against)
//
// Rate limiting: a repeated mismatch or bogon for the same station is reported once per
// quiet period, and a flood of such events is capped; a change of MAC (changed, flip flop,
// reused) is always reported, at once.
//
// observe() takes frames and a clock and does no I/O besides the database, so it can be
// tested without a network. Use one object from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "duplex/inet/address.h"
#include "duplex/inet/ndp.h"
#include "duplex/inet/prefix.h"
#include "duplex/link/arp_frame.h"
#include "duplex/link/mac_address.h"
#include "duplex/link/station_db.h"

namespace duplex::link {

enum class StationEventKind : std::uint8_t {
  new_station,
  changed_ethernet_address,
  flip_flop,
  reused_old_address,
  ethernet_mismatch,
  bogon,
};

// arpwatch's words: "new station", "changed ethernet address", "flip flop"...
std::string_view to_string(StationEventKind kind) noexcept;
// snake_case for JSON and hooks: "new_station", "changed_ethernet_address"...
std::string_view to_key(StationEventKind kind) noexcept;
// True for the kinds that report a MAC change, which rate limiting never holds back.
bool is_mac_change(StationEventKind kind) noexcept;

struct StationEvent {
  StationEventKind kind = StationEventKind::new_station;
  std::int64_t time = 0;  // microseconds since the Unix epoch
  std::string dev;
  inet::Address ip;
  MacAddress mac;                     // the ARP sender MAC
  std::optional<MacAddress> old_mac;  // the MAC the IP had until now (changes only)
  MacAddress ethernet;                // the Ethernet source of the frame
  ArpOp op = ArpOp::request;
  std::uint8_t ndp_type = 0;  // an IPv6 station's: the ICMPv6 type that claimed it (not op)
};

struct ArpWatchLimits {
  // A repeated mismatch or bogon for the same (IP, MAC) is reported once per this period.
  std::chrono::seconds quiet{300};
  // At most this many other events per second (a burst of up to `burst`) get through.
  unsigned per_second = 20;
  unsigned burst = 100;
};

class ArpWatch {
 public:
  // `subnets`: the interface's own prefixes, for bogon detection (none: no bogons).
  ArpWatch(StationDb& db, std::string dev, std::vector<inet::Prefix> subnets,
           ArpWatchLimits limits = {});

  // The events that one frame causes; `now` in microseconds since the Unix epoch.
  std::vector<StationEvent> observe(const ArpFrame& frame, std::int64_t now);
  // The same for a neighbour discovery message (inet::decode_ndp's) and its frame's source.
  std::vector<StationEvent> observe(const inet::NdpMessage& message, const MacAddress& ethernet,
                                    std::int64_t now);

  // Events held back by rate limiting so far (never a MAC change).
  std::uint64_t suppressed() const noexcept { return suppressed_; }

 private:
  bool admit(const StationEvent& e);
  // `claim`'s ip claimed by its mac; its kind and old_mac are set here.
  std::vector<StationEvent> observe_claim(const StationEvent& claim);

  StationDb& db_;
  std::string dev_;
  std::vector<inet::Prefix> subnets_;
  ArpWatchLimits limits_;
  // Last report time per (kind, IP, MAC), for the quiet period.
  std::unordered_map<std::string, std::int64_t> last_reported_;
  double tokens_;
  std::int64_t tokens_at_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace duplex::link
