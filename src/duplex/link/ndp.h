// Public. IPv6 neighbour discovery on real frames, as ndisc6 and rdisc6 do it: ask who holds
// an IPv6 address (a neighbour solicitation to its solicited-node group) and report each
// advertisement with its link-layer address and flags; duplicate address detection as
// RFC 4862 5.4 does it (a solicitation from ::); a router solicitation that collects the
// routers' advertisements. The messages are built and checked by inet/ndp.h.
//
// Runs on the calling thread until done. FIXME: its own poll() loop (PacketSocket::wait)
// until the link layer's loops move onto the reactor's EventLoop, as arp_ping's will.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "duplex/inet/address.h"
#include "duplex/inet/ndp.h"
#include "duplex/link/interface.h"
#include "duplex/link/mac_address.h"
#include "duplex/link/packet_socket.h"

namespace duplex::link {

// The IPv6 frames of one interface on a packet socket, and the interface's link-local
// address to send from. Opening it needs CAP_NET_RAW (duplex::Error says so).
class NdpLink {
 public:
  using Clock = std::chrono::steady_clock;
  explicit NdpLink(Interface interface);

  const Interface& interface() const noexcept { return interface_; }
  // The interface's link-local address (not tentative), if it has one now.
  std::optional<inet::Address> link_local() const;
  // Receive the frames of a multicast group too (its 33:33:xx:xx:xx:xx MAC).
  void join(const inet::Address& group);
  // Sends an IPv6 packet to `destination` (a multicast group's MAC when it is one, else the
  // given MAC). Throws duplex::Error when the kernel refuses.
  void send(std::span<const std::uint8_t> packet, const inet::Address& destination);

  struct Received {
    inet::NdpMessage message;  // its bytes live in the link's buffer until the next receive
    MacAddress ethernet_source;
    Clock::time_point at;
  };
  // The next valid NDP message (inet::decode_ndp) that this host did not send, waiting until
  // `until`; nullopt at `until` or when `stop` returns true.
  std::optional<Received> receive(Clock::time_point until, const std::function<bool()>& stop);

 private:
  Interface interface_;
  PacketSocket socket_;
  std::array<std::uint8_t, 2048> buffer_{};
};

inline constexpr std::uint16_t kEthertypeIpv6 = 0x86dd;

// The MAC of an IPv6 multicast group (RFC 2464 7): 33:33 and its low 32 bits.
MacAddress multicast_mac(const inet::Address& group) noexcept;

// An NDP message in an Ethernet frame that passed inet::decode_ndp, with the frame's source.
struct NdpFrame {
  inet::NdpMessage message;  // its bytes point into the frame
  MacAddress ethernet_source;
};
std::optional<NdpFrame> decode_ndp_frame(std::span<const std::uint8_t> frame) noexcept;
// Lets only untagged IPv6 frames carrying a router or neighbour message (ICMPv6 types
// 133-136 right after the fixed header) through a packet socket for 0x86dd, so that the rest
// of the link's IPv6 traffic never reaches user space. Throws duplex::Error if refused.
void attach_ndp_filter(PacketSocket& socket);

enum class NdpPingMode : std::uint8_t {
  solicit,  // who has target? from our link-local address, with our MAC in an option
  dad,      // RFC 4862 5.4: from ::, no option; any advertisement for target, or another
            // node's solicitation from :: for it, is a duplicate
};

struct NdpPingOptions {
  inet::Address target;
  NdpPingMode mode = NdpPingMode::solicit;
  unsigned count = 3;  // solicitations (DAD: DupAddrDetectTransmits); 0 means no limit
  std::chrono::nanoseconds interval = std::chrono::seconds(1);  // and the wait after the last
  bool stop_at_first = false;                                   // as ndisc6 does
  std::function<bool()> stop;                                   // Ctrl-C
};

struct NdpPingReply {
  unsigned seq = 0;               // the solicitation it answers (the latest sent), from 1
  bool advertisement = true;      // DAD: false for another node's solicitation for the target
  inet::Address source;           // the IPv6 source
  std::optional<MacAddress> mac;  // the target link-layer address option
  MacAddress ethernet;            // the frame's source
  bool router = false, solicited = false, override_flag = false;
  std::chrono::nanoseconds rtt{};
};

struct NdpPingSummary {
  inet::Address source;  // the solicitations' source (:: for DAD)
  unsigned sent = 0;
  unsigned received = 0;
  std::vector<MacAddress> macs;  // each distinct MAC that answered, in order of first answer
  bool interrupted = false;
};

// Throws duplex::Error when the interface has no link-local address (solicit mode), and
// duplex::ParseError when the target is not a unicast IPv6 address.
NdpPingSummary ndp_ping(NdpLink& link, const NdpPingOptions& options,
                        const std::function<void(const NdpPingReply&)>& on_reply);

struct RouterAdvertisement {
  inet::Address source;
  MacAddress ethernet;
  std::uint8_t hop_limit = 0;
  bool managed = false, other = false, home_agent = false, proxy = false;
  std::uint8_t preference = 0;  // RFC 4191: 0 medium, 1 high, 3 low (2 reserved)
  std::uint16_t lifetime = 0;   // seconds
  std::uint32_t reachable_ms = 0, retrans_ms = 0;
  std::vector<inet::NdpPrefix> prefixes;
  std::optional<std::uint32_t> mtu;
  std::vector<inet::Address> dns_servers;
  std::optional<MacAddress> source_mac;  // the source link-layer address option
  std::chrono::nanoseconds rtt{};        // since the latest solicitation
};

struct RouterSolicitOptions {
  unsigned count = 3;  // solicitations until a router answers
  std::chrono::nanoseconds interval = std::chrono::seconds(1);
  std::function<bool()> stop;
};

// Solicits routers from the link-local address (from :: without one, without an option) and
// reports each router's first advertisement; once one came, it listens until that interval
// ends (other routers may answer too) and stops. Returns how many routers answered.
unsigned ndp_routers(NdpLink& link, const RouterSolicitOptions& options,
                     const std::function<void(const RouterAdvertisement&)>& on_advert);

}  // namespace duplex::link
