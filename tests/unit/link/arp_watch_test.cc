#include "duplex/link/arp_watch.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "duplex/base/error.h"
#include "duplex/inet/ndp.h"

namespace duplex::link {
namespace {

using inet::Address;
using inet::Prefix;

const MacAddress kGateway = MacAddress::from_uint64(0x0000'0c00'0001ULL);
const MacAddress kAttacker = MacAddress::from_uint64(0x0200'0000'0badULL);
const MacAddress kThird = MacAddress::from_uint64(0x0200'0000'0003ULL);
const Address kGatewayIp = Address::parse("10.99.0.1");
const Address kUs = Address::parse("10.99.0.2");

constexpr std::int64_t kSecond = 1'000'000;

ArpFrame claim(const MacAddress& mac, const Address& ip) {
  return ArpFrame::reply(mac, ip, MacAddress::from_uint64(0x0200'0000'0002ULL), kUs);
}

class ArpWatchTest : public ::testing::Test {
 protected:
  StationDb db{":memory:"};
  ArpWatch watch{db, "eth0", {Prefix::parse("10.99.0.0/24")}};
  std::int64_t now = 1'700'000'000 * kSecond;

  std::vector<StationEvent> see(const ArpFrame& f) {
    now += kSecond;
    return watch.observe(f, now);
  }
  std::vector<StationEventKind> kinds(const ArpFrame& f) {
    std::vector<StationEventKind> out;
    for (const auto& e : see(f)) out.push_back(e.kind);
    return out;
  }
};

using K = StationEventKind;

TEST_F(ArpWatchTest, FirstSightingOfAnIpIsANewStation) {
  const auto events = see(claim(kGateway, kGatewayIp));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, K::new_station);
  EXPECT_EQ(events[0].ip, kGatewayIp);
  EXPECT_EQ(events[0].mac, kGateway);
  EXPECT_EQ(events[0].dev, "eth0");
}

TEST_F(ArpWatchTest, TheSameMacAgainReportsNothing) {
  see(claim(kGateway, kGatewayIp));
  EXPECT_TRUE(see(claim(kGateway, kGatewayIp)).empty());
}

TEST_F(ArpWatchTest, AnUnseenMacForAKnownIpIsAChangedEthernetAddressNamingBoth) {
  see(claim(kGateway, kGatewayIp));
  const auto events = see(claim(kAttacker, kGatewayIp));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, K::changed_ethernet_address);
  EXPECT_EQ(events[0].mac, kAttacker);
  EXPECT_EQ(events[0].old_mac, kGateway);
}

TEST_F(ArpWatchTest, GoingBackToThePreviousMacIsAFlipFlopEveryTime) {
  see(claim(kGateway, kGatewayIp));
  see(claim(kAttacker, kGatewayIp));
  const auto back = see(claim(kGateway, kGatewayIp));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].kind, K::flip_flop);
  EXPECT_EQ(back[0].mac, kGateway);
  EXPECT_EQ(back[0].old_mac, kAttacker);
  EXPECT_EQ(kinds(claim(kAttacker, kGatewayIp)), std::vector{K::flip_flop});
}

TEST_F(ArpWatchTest, AnOlderMacThanThePreviousIsAReusedOldAddress) {
  see(claim(kGateway, kGatewayIp));
  see(claim(kAttacker, kGatewayIp));
  see(claim(kThird, kGatewayIp));
  EXPECT_EQ(kinds(claim(kGateway, kGatewayIp)), std::vector{K::reused_old_address});
}

TEST_F(ArpWatchTest, EthernetSourceOtherThanTheArpSenderIsAMismatch) {
  auto f = claim(kGateway, kGatewayIp);
  f.source = kAttacker;
  const auto events = see(f);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, K::ethernet_mismatch);
  EXPECT_EQ(events[0].ethernet, kAttacker);
  EXPECT_EQ(events[1].kind, K::new_station);
}

TEST_F(ArpWatchTest, ASenderOutsideTheInterfaceSubnetsIsABogonAndNotAStation) {
  EXPECT_EQ(kinds(claim(kAttacker, Address::parse("192.0.2.7"))), std::vector{K::bogon});
  EXPECT_EQ(db.station_count(), 0u);
}

TEST_F(ArpWatchTest, ProbesWithSenderIpZeroClaimNothing) {
  EXPECT_TRUE(see(ArpFrame::probe(kAttacker, kGatewayIp)).empty());
  EXPECT_EQ(db.station_count(), 0u);
}

TEST_F(ArpWatchTest, RepeatedMismatchIsReportedOncePerQuietPeriod) {
  auto f = claim(kGateway, kGatewayIp);
  f.source = kAttacker;
  see(f);
  EXPECT_TRUE(see(f).empty());
  EXPECT_EQ(watch.suppressed(), 1u);
  now += 301 * kSecond;
  EXPECT_EQ(kinds(f), std::vector{K::ethernet_mismatch});
}

TEST_F(ArpWatchTest, RateLimitingNeverHidesAMacChange) {
  // Exhaust the token bucket with a flood of new stations, then fight over one address.
  for (std::uint32_t i = 1; i <= 200; ++i)
    watch.observe(claim(kThird, Address::v4((10u << 24) | (99u << 16) | (1u << 8) | i)), now);
  ASSERT_GT(watch.suppressed(), 0u);
  watch.observe(claim(kGateway, kGatewayIp), now);
  int changes = 0;
  for (int i = 0; i < 50; ++i) {
    now += 1;  // far faster than any bucket refills
    const auto& mac = i % 2 == 0 ? kAttacker : kGateway;
    for (const auto& e : watch.observe(claim(mac, kGatewayIp), now))
      if (is_mac_change(e.kind)) ++changes;
  }
  EXPECT_EQ(changes, 50);
}

TEST_F(ArpWatchTest, EveryReportedEventIsLogged) {
  see(claim(kGateway, kGatewayIp));
  see(claim(kAttacker, kGatewayIp));
  EXPECT_EQ(db.event_count(), 2u);
}

TEST(StationDb, StationsSurviveReopeningTheFile) {
  const auto path =
      std::filesystem::temp_directory_path() / ("dx_station_" + std::to_string(getpid()) + ".db");
  {
    StationDb db(path.string());
    db.touch("eth0", kGatewayIp, kGateway, 1);
    db.touch("eth0", kGatewayIp, kAttacker, 2);
  }
  StationDb db(path.string());
  const auto h = db.history("eth0", kGatewayIp);
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].mac, kAttacker);  // most recent first
  EXPECT_EQ(h[1].mac, kGateway);
}

TEST(StationDb, AnUnwritablePathNamesTheFileAndTheFix) {
  try {
    StationDb db("/proc/no/such/dir/arpwatch.db");
    FAIL() << "opened an impossible path";
  } catch (const duplex::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/no/such/dir/arpwatch.db"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("--db"), std::string::npos);
  }
}

TEST(StationDb, DefaultPathFollowsXdgDataHome) {
  const auto dir = std::filesystem::temp_directory_path() / ("dx_xdg_" + std::to_string(getpid()));
  const char* old = std::getenv("XDG_DATA_HOME");
  const std::string saved = old ? old : "";
  setenv("XDG_DATA_HOME", dir.c_str(), 1);
  const auto path = StationDb::default_path();
  if (old)
    setenv("XDG_DATA_HOME", saved.c_str(), 1);
  else
    unsetenv("XDG_DATA_HOME");
  EXPECT_EQ(path, (dir / "duplex" / "arpwatch.db").string());
  EXPECT_TRUE(std::filesystem::is_directory(dir / "duplex"));
  std::filesystem::remove_all(dir);
}

// IPv6 stations from neighbour discovery, in the same database: a solicitation's source
// link-layer address claims its source; one from :: (DAD) claims nothing.
TEST_F(ArpWatchTest, NeighbourSolicitationsClaimTheirSourceAndDadClaimsNothing) {
  const auto ns = [&](const char* source, const MacAddress& mac) {
    const auto packet = inet::encode_neighbor_solicitation(
        Address::parse(source), Address::parse("fe80::99"),
        source == std::string_view("::") ? std::span<const std::uint8_t>()
                                         : std::span<const std::uint8_t>(mac.bytes()));
    const auto m = inet::decode_ndp(packet);
    EXPECT_TRUE(m);
    now += kSecond;
    return watch.observe(*m, mac, now);
  };
  EXPECT_TRUE(ns("::", kGateway).empty());
  auto events = ns("fe80::1", kGateway);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, K::new_station);
  EXPECT_EQ(events[0].ip, Address::parse("fe80::1"));
  EXPECT_EQ(events[0].ndp_type, inet::kIcmpv6NeighborSolicitation);
  events = ns("fe80::1", kAttacker);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, K::changed_ethernet_address);
  EXPECT_EQ(events[0].old_mac, kGateway);
  // Outside the IPv4 subnets, yet no bogon: IPv6 has no subnet list to check against.
  EXPECT_EQ(ns("2001:db8::5", kThird).at(0).kind, K::new_station);
}

}  // namespace
}  // namespace duplex::link
