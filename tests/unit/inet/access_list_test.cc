#include "duplex/inet/access_list.h"

#include <gtest/gtest.h>

#include "duplex/base/error.h"

namespace duplex::inet {
namespace {

Address A(std::string_view text) { return Address::parse(text); }

AccessList list(std::string_view allow, std::string_view deny) {
  return AccessList(AccessList::parse_list(allow), AccessList::parse_list(deny));
}

TEST(AccessList, AnEmptyListAdmitsEveryone) {
  EXPECT_TRUE(AccessList().admits(A("192.0.2.1")));
  EXPECT_TRUE(AccessList().admits(A("2001:db8::1")));
}

TEST(AccessList, DenyWinsOverAllow) {
  const auto l = list("10.0.0.0/8", "10.1.0.0/16");
  EXPECT_TRUE(l.admits(A("10.2.3.4")));
  EXPECT_FALSE(l.admits(A("10.1.3.4")));
  EXPECT_FALSE(l.admits(A("192.0.2.1")));  // not in the allow list
}

TEST(AccessList, IPv4RulesHoldTheMappedFormOfADualStackSocketsPeers) {
  // What accept() on [::] returns for 127.0.0.1.
  const Address mapped = A("::ffff:127.0.0.1");
  EXPECT_FALSE(list("", "127.0.0.1").admits(mapped));
  EXPECT_TRUE(list("127.0.0.0/8,::1/128", "").admits(mapped));
  EXPECT_TRUE(list("127.0.0.0/8,::1/128", "").admits(A("::1")));
  EXPECT_FALSE(list("127.0.0.0/8,::1/128", "").admits(A("::ffff:10.0.0.1")));
}

TEST(AccessList, IPv6RulesForTheMappedBlockStillHoldIt) {
  EXPECT_FALSE(list("", "::ffff:0:0/96").admits(A("::ffff:192.0.2.1")));
  // ... and never an IPv4 rule an IPv6 peer that only looks alike.
  EXPECT_TRUE(list("", "127.0.0.1").admits(A("::127.0.0.1")));
  EXPECT_TRUE(list("", "127.0.0.1").admits(A("64:ff9b::127.0.0.1")));
}

TEST(AccessList, ParsesAddressesAndPrefixesSkippingEmptyItems) {
  const auto p = AccessList::parse_list("10.0.0.0/8, 127.0.0.1,,::1");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[1].to_string(), "127.0.0.1/32");
  EXPECT_EQ(p[2].to_string(), "::1/128");
}

TEST(AccessList, NamesTheItemThatIsNeitherAnAddressNorAPrefix) {
  try {
    AccessList::parse_list("10.0.0.0/8,10.0.0.0/33");
    FAIL() << "parsed";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("10.0.0.0/33"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace duplex::inet
