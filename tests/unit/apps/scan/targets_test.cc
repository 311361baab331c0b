// apps/scan: the target words of `duplex scan` (addresses, CIDRs, ranges, names) and the
// local-subnet rule that decides when a scan needs --yes.
#include <gtest/gtest.h>

#include "duplex/apps/scan/targets.h"
#include "duplex/base/error.h"

namespace duplex::scan {
namespace {

std::vector<std::string> addresses(const std::vector<std::string>& words) {
  std::vector<TargetSpec> specs;
  for (const auto& w : words) specs.push_back(parse_target(w));
  std::vector<std::string> out;
  for (const auto& t : expand_targets(specs)) out.push_back(t.address.to_string());
  return out;
}

std::string error_of(std::string_view word) {
  try {
    parse_target(word);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(ScanTargets, AnAddressIsOneHost) {
  EXPECT_EQ(addresses({"192.0.2.7"}), std::vector<std::string>{"192.0.2.7"});
  EXPECT_EQ(addresses({"2001:db8::1"}), std::vector<std::string>{"2001:db8::1"});
}

TEST(ScanTargets, ACidrIsEveryAddressInItAsNmapScansIt) {
  EXPECT_EQ(addresses({"192.0.2.9/30"}),
            (std::vector<std::string>{"192.0.2.8", "192.0.2.9", "192.0.2.10", "192.0.2.11"}));
  EXPECT_EQ(addresses({"2001:db8::/127"}), (std::vector<std::string>{"2001:db8::", "2001:db8::1"}));
  EXPECT_EQ(parse_target("10.0.0.0/8").count(), 16777216u);
}

TEST(ScanTargets, ARangeEndsInAnOctetAGroupOrAFullAddress) {
  EXPECT_EQ(addresses({"10.0.0.1-3"}),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
  EXPECT_EQ(addresses({"10.0.0.254-10.0.1.1"}),
            (std::vector<std::string>{"10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"}));
  EXPECT_EQ(addresses({"2001:db8::fe-ff"}),
            (std::vector<std::string>{"2001:db8::fe", "2001:db8::ff"}));
  EXPECT_EQ(addresses({"2001:db8::1-2001:db8::2"}),
            (std::vector<std::string>{"2001:db8::1", "2001:db8::2"}));
}

TEST(ScanTargets, DuplicatesAreScannedOnce) {
  EXPECT_EQ(addresses({"10.0.0.1-2", "10.0.0.2", "10.0.0.0/31"}),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.0"}));
}

TEST(ScanTargets, ANameResolves) {
  const auto targets = expand_targets({parse_target("localhost")});
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_TRUE(targets[0].address.is_loopback());
  EXPECT_EQ(targets[0].name, "localhost");
  EXPECT_EQ(parse_target("my-host.example").kind, TargetSpec::Kind::name);
}

TEST(ScanTargets, MalformedWordsSayWhatToWrite) {
  EXPECT_NE(error_of("10.0.0.9-3").find("backwards range: write 10.0.0.3-10.0.0.9"),
            std::string::npos);
  EXPECT_NE(error_of("10.0.0.1-300").find("at most 255"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.1-x").find("10.0.0.1-20"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.1-::2").find("mixes IPv4 and IPv6"), std::string::npos);
  EXPECT_NE(error_of("300.1.1.1").find("300"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.0/33").find("33"), std::string::npos);
  EXPECT_NE(error_of("a_b!").find("not an address, a CIDR"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
}

TEST(ScanTargets, TooManyAddressesAreRefusedBeforeAnyIsMade) {
  try {
    expand_targets({parse_target("::/64")});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("smaller prefixes"), std::string::npos);
  }
}

TEST(ScanTargets, LoopbackAndOwnSubnetsAreLocal) {
  const std::vector<inet::Prefix> local{inet::Prefix::parse("192.168.7.5/24")};
  EXPECT_TRUE(is_local(inet::Address::parse("127.0.0.9"), local));
  EXPECT_TRUE(is_local(inet::Address::parse("::1"), local));
  EXPECT_TRUE(is_local(inet::Address::parse("192.168.7.200"), local));
  EXPECT_FALSE(is_local(inet::Address::parse("192.168.8.1"), local));
  EXPECT_FALSE(is_local(inet::Address::parse("8.8.8.8"), local));
}

TEST(ScanTargets, ThisMachineHasALoopbackPrefix) {
  const auto local = local_prefixes();
  EXPECT_TRUE(std::any_of(local.begin(), local.end(),
                          [](const inet::Prefix& p) { return p.address().is_loopback(); }));
}

}  // namespace
}  // namespace duplex::scan
