// The NDP messages duplex sends, byte for byte against ones built by an independent Python
// script (struct and its own RFC 1071 sum), and the receiver's checks of RFC 4861 6.1 and 7.1
// on advertisements built here: each rule refuses the message that breaks it.
#include "duplex/inet/ndp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../dissect_fields.h"
#include "duplex/base/error.h"
#include "duplex/inet/checksum.h"

namespace duplex::inet {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::from_hex;

const Bytes kMac = from_hex("020000000001");

std::string hex(const Bytes& b) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto c : b) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// An IPv6 packet around `message` (its checksum filled in), with the given hop limit.
Bytes packet(const char* source, const char* destination, Bytes message,
             std::uint8_t hop_limit = 255) {
  const auto s = Address::parse(source), d = Address::parse(destination);
  message[2] = message[3] = 0;
  const auto length = static_cast<std::uint32_t>(message.size());
  const std::uint16_t sum =
      checksum_fold(checksum_add(pseudo_header_sum(s, d, 58, length), message));
  message[2] = static_cast<std::uint8_t>(sum >> 8);
  message[3] = static_cast<std::uint8_t>(sum);
  Bytes out{0x60,
            0,
            0,
            0,
            static_cast<std::uint8_t>(length >> 8),
            static_cast<std::uint8_t>(length),
            58,
            hop_limit};
  out.insert(out.end(), s.data(), s.data() + 16);
  out.insert(out.end(), d.data(), d.data() + 16);
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

Bytes with_address(Bytes fixed, const char* address) {
  const auto a = Address::parse(address);
  fixed.insert(fixed.end(), a.data(), a.data() + 16);
  return fixed;
}

// A neighbour advertisement for `target` with flags R S O and a target link-layer option.
Bytes advertisement(const char* target, std::uint8_t flags) {
  auto m = with_address({136, 0, 0, 0, flags, 0, 0, 0}, target);
  const Bytes option = from_hex("0201020000000002");
  m.insert(m.end(), option.begin(), option.end());
  return m;
}

TEST(Ndp, SolicitedNodeKeepsTheLow24Bits) {
  EXPECT_EQ(solicited_node(Address::parse("2001:db8::abcd:1234")).to_string(), "ff02::1:ffcd:1234");
  EXPECT_EQ(solicited_node(Address::parse("fe80::2")).to_string(), "ff02::1:ff00:2");
  EXPECT_EQ(all_nodes().to_string(), "ff02::1");
  EXPECT_EQ(all_routers().to_string(), "ff02::2");
}

TEST(Ndp, NeighborSolicitationIsByteExact) {
  const auto p =
      encode_neighbor_solicitation(Address::parse("fe80::1"), Address::parse("fe80::2"), kMac);
  EXPECT_EQ(hex(p),
            "6000000000203afffe800000000000000000000000000001ff0200000000000000000001ff000002"
            "87007a9700000000fe8000000000000000000000000000020101020000000001");
  const auto m = decode_ndp(p);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->icmp.target.to_string(), "fe80::2");
  EXPECT_EQ(hex(Bytes(ndp_option(*m, kNdpSourceLinkAddress).begin(),
                      ndp_option(*m, kNdpSourceLinkAddress).end())),
            "020000000001");
}

TEST(Ndp, DadSolicitationComesFromNobodyWithoutAnOption) {
  const auto p =
      encode_neighbor_solicitation(Address::parse("::"), Address::parse("2001:db8::abcd:1234"), {});
  EXPECT_EQ(hex(p),
            "6000000000183aff00000000000000000000000000000000ff0200000000000000000001ffcd1234"
            "87007bec0000000020010db80000000000000000abcd1234");
  EXPECT_TRUE(decode_ndp(p));
  EXPECT_THROW(encode_neighbor_solicitation(Address::parse("::"), Address::parse("fe80::2"), kMac),
               ParseError);
}

TEST(Ndp, RouterSolicitationIsByteExact) {
  const auto p = encode_router_solicitation(Address::parse("fe80::1"), kMac);
  EXPECT_EQ(hex(p),
            "6000000000103afffe800000000000000000000000000001ff020000000000000000000000000002"
            "85007a2c000000000101020000000001");
  EXPECT_TRUE(decode_ndp(p));
}

TEST(Ndp, EncodersRefuseWhatIsNoNeighbour) {
  const auto ll = Address::parse("fe80::1");
  EXPECT_THROW(encode_neighbor_solicitation(ll, Address::parse("192.0.2.1"), kMac), ParseError);
  EXPECT_THROW(encode_neighbor_solicitation(ll, Address::parse("ff02::1"), kMac), ParseError);
  EXPECT_THROW(encode_neighbor_solicitation(ll, Address::parse("::"), kMac), ParseError);
  EXPECT_THROW(encode_neighbor_solicitation(Address::parse("192.0.2.1"), ll, kMac), ParseError);
  EXPECT_THROW(encode_router_solicitation(Address::parse("ff02::1"), kMac), ParseError);
}

TEST(Ndp, AdvertisementIsReadWithItsFlagsAndMac) {
  const auto p = packet("fe80::2", "fe80::1", advertisement("fe80::2", 0xe0));
  const auto m = decode_ndp(p);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->icmp.router && m->icmp.solicited && m->icmp.override_flag);
  const auto mac = ndp_option(*m, kNdpTargetLinkAddress);
  EXPECT_EQ(hex(Bytes(mac.begin(), mac.end())), "020000000002");
  EXPECT_TRUE(ndp_option(*m, kNdpSourceLinkAddress).empty());
}

TEST(Ndp, ReceiverChecksRefuseEachBrokenRule) {
  // Hop limit below 255: it came through a router (RFC 4861 7.1.2).
  EXPECT_FALSE(decode_ndp(packet("fe80::2", "fe80::1", advertisement("fe80::2", 0x60), 254)));
  // A bad checksum.
  auto bad = packet("fe80::2", "fe80::1", advertisement("fe80::2", 0x60));
  bad[43] ^= 1;
  EXPECT_FALSE(decode_ndp(bad));
  // Code not 0.
  auto coded = advertisement("fe80::2", 0x60);
  coded[1] = 1;
  EXPECT_FALSE(decode_ndp(packet("fe80::2", "fe80::1", coded)));
  // A multicast target.
  EXPECT_FALSE(decode_ndp(packet("fe80::2", "fe80::1", advertisement("ff02::1", 0x60))));
  // Solicited, yet sent to a group.
  EXPECT_FALSE(decode_ndp(packet("fe80::2", "ff02::1", advertisement("fe80::2", 0x60))));
  EXPECT_TRUE(decode_ndp(packet("fe80::2", "ff02::1", advertisement("fe80::2", 0x20))));
  // A solicitation from :: to an address that is no solicited-node group.
  EXPECT_FALSE(
      decode_ndp(packet("::", "ff02::1", with_address({135, 0, 0, 0, 0, 0, 0, 0}, "fe80::2"))));
  // An option of length 0.
  auto zero = advertisement("fe80::2", 0x60);
  zero[25] = 0;
  EXPECT_FALSE(decode_ndp(packet("fe80::2", "fe80::1", zero)));
  // Cut short: the payload length says more than the packet holds.
  auto cut = packet("fe80::2", "fe80::1", advertisement("fe80::2", 0x60));
  cut.pop_back();
  EXPECT_FALSE(decode_ndp(cut));
  // Not ICMPv6 (UDP), and an echo request: no NDP.
  auto udp = packet("fe80::2", "fe80::1", advertisement("fe80::2", 0x60));
  udp[6] = 17;
  EXPECT_FALSE(decode_ndp(udp));
  EXPECT_FALSE(decode_ndp(packet("fe80::2", "fe80::1", {128, 0, 0, 0, 0, 1, 0, 1})));
}

// hop limit 64, M, lifetime 1800, reachable 5000, retrans 700; a prefix 2001:db8::/64 (L A,
// valid 7200, preferred infinity), MTU 1400, RDNSS 2001:db8::53, source MAC.
Bytes router_advertisement() {
  auto m = from_hex("860000004080070800001388000002bc");
  const auto prefix = with_address(from_hex("030440c000001c20ffffffff00000000"), "2001:db8::");
  const auto mtu = from_hex("0501000000000578");
  const auto rdnss = with_address(from_hex("1903000000000e10"), "2001:db8::53");
  const auto source = from_hex("0101020000000003");
  for (const Bytes* b : {&prefix, &mtu, &rdnss, &source}) m.insert(m.end(), b->begin(), b->end());
  return m;
}

TEST(Ndp, RouterAdvertisementOptions) {
  const auto p = packet("fe80::3", "ff02::1", router_advertisement());
  const auto m = decode_ndp(p);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->icmp.cur_hop_limit, 64);
  EXPECT_TRUE(m->icmp.managed());
  EXPECT_FALSE(m->icmp.other_config());
  EXPECT_EQ(m->icmp.router_lifetime, 1800);
  EXPECT_EQ(m->icmp.reachable_time, 5000u);
  EXPECT_EQ(m->icmp.retrans_timer, 700u);
  const auto prefixes = ndp_prefixes(*m);
  ASSERT_EQ(prefixes.size(), 1u);
  EXPECT_EQ(prefixes[0].prefix.to_string(), "2001:db8::");
  EXPECT_EQ(prefixes[0].length, 64);
  EXPECT_TRUE(prefixes[0].on_link && prefixes[0].autonomous && !prefixes[0].router_address);
  EXPECT_EQ(prefixes[0].valid_lifetime, 7200u);
  EXPECT_EQ(prefixes[0].preferred_lifetime, 0xffffffffu);
  EXPECT_EQ(ndp_mtu(*m), 1400u);
  const auto dns = ndp_dns_servers(*m);
  ASSERT_EQ(dns.size(), 1u);
  EXPECT_EQ(dns[0].to_string(), "2001:db8::53");
  // From a global address, a router advertisement is refused (RFC 4861 6.1.2).
  EXPECT_FALSE(decode_ndp(packet("2001:db8::3", "ff02::1", router_advertisement())));
}

}  // namespace
}  // namespace duplex::inet
