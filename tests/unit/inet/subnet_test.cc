#include "duplex/inet/subnet.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "duplex/base/error.h"

namespace duplex::inet {
namespace {

std::vector<std::string> texts(const std::vector<Prefix>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.to_string());
  return out;
}

std::vector<Prefix> P(std::initializer_list<const char*> list) {
  std::vector<Prefix> out;
  for (const char* t : list) out.push_back(Prefix::parse(t));
  return out;
}

using Strings = std::vector<std::string>;

TEST(SplitByLength, ListsEverySubnetInOrder) {
  EXPECT_EQ(texts(split_by_length(Prefix::parse("192.168.1.77/24"), 26)),
            (Strings{"192.168.1.0/26", "192.168.1.64/26", "192.168.1.128/26", "192.168.1.192/26"}));
  EXPECT_EQ(
      texts(split_by_length(Prefix::parse("2001:db8::/32"), 34)),
      (Strings{"2001:db8::/34", "2001:db8:4000::/34", "2001:db8:8000::/34", "2001:db8:c000::/34"}));
}

TEST(SplitByLength, KeepsAPrefixWholeAtItsOwnLength) {
  EXPECT_EQ(texts(split_by_length(Prefix::parse("::/0"), 0)), (Strings{"::/0"}));
}

TEST(SplitByLength, RefusesShorterOrImpossibleLengths) {
  EXPECT_THROW(split_by_length(Prefix::parse("10.0.0.0/24"), 16), Error);
  EXPECT_THROW(split_by_length(Prefix::parse("10.0.0.0/24"), 33), Error);
}

TEST(SplitByLength, RefusesHugeOutputsAndSaysHowToNarrowThem) {
  try {
    split_by_length(Prefix::parse("10.0.0.0/8"), 30);
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("4194304 subnets"), std::string::npos) << msg;
    EXPECT_NE(msg.find("split a longer prefix"), std::string::npos) << msg;
  }
  EXPECT_THROW(split_by_length(Prefix::parse("2001:db8::/32"), 64), Error);
  EXPECT_EQ(split_by_length(Prefix::parse("10.0.0.0/8"), 24).size(), 65536u);
}

TEST(SplitByCount, RoundsUpToAPowerOfTwo) {
  const auto r = split_by_count(Prefix::parse("10.0.0.0/24"), 3);
  EXPECT_EQ(r.requested_count, 3u);
  EXPECT_EQ(r.rounded_count, 4u);
  EXPECT_EQ(r.new_length, 26u);
  EXPECT_EQ(r.subnets.back().to_string(), "10.0.0.192/26");
  EXPECT_EQ(split_by_count(Prefix::parse("10.0.0.0/24"), 1).subnets.size(), 1u);
}

TEST(SplitByCount, RefusesMoreSubnetsThanAddresses) {
  EXPECT_THROW(split_by_count(Prefix::parse("10.0.0.0/30"), 8), Error);
  EXPECT_THROW(split_by_count(Prefix::parse("10.0.0.0/30"), 0), Error);
}

TEST(LengthForHosts, UsesTheSameRulesAsHostCount) {
  EXPECT_EQ(length_for_hosts(Family::v4, 1), 32u);
  EXPECT_EQ(length_for_hosts(Family::v4, 2), 31u);
  EXPECT_EQ(length_for_hosts(Family::v4, 3), 29u);
  EXPECT_EQ(length_for_hosts(Family::v4, 6), 29u);
  EXPECT_EQ(length_for_hosts(Family::v4, 7), 28u);
  EXPECT_EQ(length_for_hosts(Family::v4, 254), 24u);
  EXPECT_EQ(length_for_hosts(Family::v4, 255), 23u);
  EXPECT_EQ(length_for_hosts(Family::v4, 4294967294u), 0u);
  EXPECT_FALSE(length_for_hosts(Family::v4, 4294967295u));
  EXPECT_EQ(length_for_hosts(Family::v6, 1), 128u);
  EXPECT_EQ(length_for_hosts(Family::v6, 256), 120u);
  EXPECT_EQ(length_for_hosts(Family::v6, 257), 119u);
}

TEST(SplitByHosts, PlacesTheLargestFirstAndReportsTheFreeSpace) {
  const std::uint64_t hosts[] = {20, 100, 50, 2};
  const auto plan = split_by_hosts(Prefix::parse("192.168.0.0/24"), hosts);
  ASSERT_EQ(plan.allocations.size(), 4u);
  EXPECT_EQ(plan.allocations[0].subnet.to_string(), "192.168.0.0/25");
  EXPECT_EQ(plan.allocations[0].hosts, 100u);
  EXPECT_EQ(plan.allocations[0].index, 1u);
  EXPECT_EQ(plan.allocations[1].subnet.to_string(), "192.168.0.128/26");
  EXPECT_EQ(plan.allocations[2].subnet.to_string(), "192.168.0.192/27");
  EXPECT_EQ(plan.allocations[3].subnet.to_string(), "192.168.0.224/31");
  EXPECT_EQ(texts(plan.free), (Strings{"192.168.0.226/31", "192.168.0.228/30", "192.168.0.232/29",
                                       "192.168.0.240/28"}));
}

TEST(SplitByHosts, FillsABlockExactlyWithNoFreeSpace) {
  const std::uint64_t hosts[] = {126, 126};
  const auto plan = split_by_hosts(Prefix::parse("10.0.0.0/24"), hosts);
  EXPECT_EQ(plan.allocations[1].subnet.to_string(), "10.0.0.128/25");
  EXPECT_TRUE(plan.free.empty());
}

TEST(SplitByHosts, RefusesPlansThatDoNotFit) {
  const std::uint64_t too_many[] = {126, 126, 1};
  EXPECT_THROW(split_by_hosts(Prefix::parse("10.0.0.0/24"), too_many), Error);
  const std::uint64_t too_big[] = {300};
  EXPECT_THROW(split_by_hosts(Prefix::parse("10.0.0.0/24"), too_big), Error);
  const std::uint64_t zero[] = {0};
  EXPECT_THROW(split_by_hosts(Prefix::parse("10.0.0.0/24"), zero), Error);
}

TEST(SplitByHosts, PlansIPv6Blocks) {
  const std::uint64_t hosts[] = {256, 1000};
  const auto plan = split_by_hosts(Prefix::parse("2001:db8::/116"), hosts);
  EXPECT_EQ(plan.allocations[0].subnet.to_string(), "2001:db8::/118");
  EXPECT_EQ(plan.allocations[1].subnet.to_string(), "2001:db8::400/120");
}

TEST(Aggregate, MergesSiblingsAndDropsCoveredPrefixes) {
  EXPECT_EQ(texts(aggregate(P({"10.0.1.0/24", "10.0.0.0/24", "10.0.0.128/25", "10.0.2.0/23"}))),
            (Strings{"10.0.0.0/22"}));
}

TEST(Aggregate, KeepsNonAdjacentBlocksApart) {
  EXPECT_EQ(texts(aggregate(P({"10.0.0.0/24", "10.0.2.0/24"}))),
            (Strings{"10.0.0.0/24", "10.0.2.0/24"}));
  // Adjacent but not siblings: 10.0.1.0/24 + 10.0.2.0/24 cannot become one prefix.
  EXPECT_EQ(texts(aggregate(P({"10.0.1.0/24", "10.0.2.0/24"}))),
            (Strings{"10.0.1.0/24", "10.0.2.0/24"}));
}

TEST(Aggregate, IgnoresHostBitsAndHandlesBothFamiliesSeparately) {
  EXPECT_EQ(
      texts(aggregate(P({"2001:db8:1::/48", "10.0.0.7/25", "2001:db8::5/48", "10.0.0.200/25"}))),
      (Strings{"10.0.0.0/24", "2001:db8::/47"}));
}

TEST(Aggregate, ReachesTheWholeSpaceWithoutOverflow) {
  EXPECT_EQ(texts(aggregate(P({"0.0.0.0/1", "128.0.0.0/1", "255.255.255.255/32"}))),
            (Strings{"0.0.0.0/0"}));
  EXPECT_EQ(texts(aggregate(P({"::/1", "8000::/1", "ffff::/16"}))), (Strings{"::/0"}));
  EXPECT_TRUE(aggregate(std::vector<Prefix>{}).empty());
}

TEST(RangeToPrefixes, GivesTheMinimalCidrList) {
  EXPECT_EQ(texts(range_to_prefixes(Address::parse("10.0.0.5"), Address::parse("10.0.0.20"))),
            (Strings{"10.0.0.5/32", "10.0.0.6/31", "10.0.0.8/29", "10.0.0.16/30", "10.0.0.20/32"}));
  EXPECT_EQ(texts(range_to_prefixes(Address::parse("1.2.3.4"), Address::parse("1.2.3.4"))),
            (Strings{"1.2.3.4/32"}));
}

TEST(RangeToPrefixes, CoversWholeFamilies) {
  EXPECT_EQ(texts(range_to_prefixes(Address::parse("0.0.0.0"), Address::parse("255.255.255.255"))),
            (Strings{"0.0.0.0/0"}));
  EXPECT_EQ(texts(range_to_prefixes(Address::parse("::"),
                                    Address::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))),
            (Strings{"::/0"}));
  EXPECT_EQ(range_to_prefixes(Address::parse("0.0.0.1"), Address::parse("255.255.255.254")).size(),
            62u);
}

TEST(RangeToPrefixes, WorksForIPv6) {
  EXPECT_EQ(texts(range_to_prefixes(Address::parse("2001:db8::"), Address::parse("2001:db8::1:2"))),
            (Strings{"2001:db8::/112", "2001:db8::1:0/127", "2001:db8::1:2/128"}));
}

TEST(RangeToPrefixes, RefusesBackwardsAndMixedRanges) {
  EXPECT_THROW(range_to_prefixes(Address::parse("10.0.0.2"), Address::parse("10.0.0.1")), Error);
  EXPECT_THROW(range_to_prefixes(Address::parse("10.0.0.2"), Address::parse("::1")), Error);
}

}  // namespace
}  // namespace duplex::inet

namespace duplex::inet {
namespace {

// Bounded property test on random ranges of both families: the CIDR list is contiguous,
// aligned, covers exactly first..last, and no two neighbours are siblings (which a minimal
// list never has); aggregating it gives it back unchanged.
TEST(RangeProperty, ListsAreExactAlignedMinimalAndStableUnderAggregation) {
  std::mt19937_64 rng(777);
  for (int i = 0; i < 3000; ++i) {
    const bool v6 = i % 2 == 1;
    const Family family = v6 ? Family::v6 : Family::v4;
    auto random_value = [&] {
      uint128 v = (uint128{rng()} << 64) | rng();
      return v6 ? v : v & 0xffffffffu;
    };
    uint128 lo = random_value();
    uint128 hi = lo + (random_value() >> (rng() % (v6 ? 128 : 32)));
    if (!v6) hi &= 0xffffffffu;
    if (hi < lo) std::swap(lo, hi);
    const auto list =
        range_to_prefixes(Address::from_value(family, lo), Address::from_value(family, hi));
    ASSERT_FALSE(list.empty());
    EXPECT_EQ(list.front().network().value(), lo);
    EXPECT_EQ(list.back().last().value(), hi);
    for (std::size_t k = 0; k < list.size(); ++k) {
      EXPECT_TRUE(list[k].is_network());
      if (k == 0) continue;
      EXPECT_EQ(list[k].network().value(), list[k - 1].last().value() + 1);
      const bool siblings = list[k].length() == list[k - 1].length() &&
                            Prefix(list[k].network(), list[k].length() - 1).contains(list[k - 1]);
      EXPECT_FALSE(siblings) << list[k - 1].to_string() << " " << list[k].to_string();
    }
    EXPECT_EQ(aggregate(list), list);
  }
}

}  // namespace
}  // namespace duplex::inet
