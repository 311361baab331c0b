// The pure parts of the neighbour table and interface types (the netlink side is tested
// between network namespaces, in tests/netns).
#include <gtest/gtest.h>

#include "duplex/link/interface.h"
#include "duplex/link/neighbour_table.h"

namespace duplex::link {
namespace {

using inet::Address;
using inet::Prefix;
using Names = std::vector<std::string_view>;

Neighbour with_state(std::uint16_t state, std::uint8_t flags = 0) {
  Neighbour n;
  n.state = state;
  n.flags = flags;
  return n;
}

TEST(Neighbour, StateNamesAreThoseIpNeighPrints) {
  EXPECT_EQ(with_state(0x02).state_names(), Names{"REACHABLE"});
  EXPECT_EQ(with_state(0x04).state_names(), Names{"STALE"});
  EXPECT_EQ(with_state(0x80).state_names(), Names{"PERMANENT"});
  EXPECT_EQ(with_state(0x20).state_names(), Names{"FAILED"});
}

TEST(Neighbour, NoStateBitReadsAsNone) { EXPECT_EQ(with_state(0).state_names(), Names{"NONE"}); }

TEST(Neighbour, RouterFlagIsNamedAndReported) {
  const auto n = with_state(0x02, 0x80);  // NTF_ROUTER
  EXPECT_EQ(n.flag_names(), Names{"router"});
  EXPECT_TRUE(n.is_router());
  EXPECT_FALSE(with_state(0x02).is_router());
}

TEST(Interface, SourceIsOurAddressOnThePeersSubnet) {
  Interface i;
  i.ipv4 = {Prefix::parse("192.168.7.10/24"), Prefix::parse("10.99.0.1/24")};
  EXPECT_EQ(i.source_for(Address::parse("10.99.0.2")), Address::parse("10.99.0.1"));
  EXPECT_TRUE(i.on_link(Address::parse("10.99.0.200")));
  EXPECT_FALSE(i.on_link(Address::parse("10.98.0.1")));
}

TEST(Interface, SourceForAnOffLinkPeerIsTheFirstAddressAndNoneWithoutAny) {
  Interface i;
  EXPECT_FALSE(i.source_for(Address::parse("10.99.0.2")).has_value());
  i.ipv4 = {Prefix::parse("192.168.7.10/24")};
  EXPECT_EQ(i.source_for(Address::parse("10.99.0.2")), Address::parse("192.168.7.10"));
}

}  // namespace
}  // namespace duplex::link
