// apps/dashboard/scan_ws: the Hosts page's request, checked and bounded before any probe
// leaves: JSON shape, target and port syntax, the local subnets, the sizes.
#include "duplex/apps/dashboard/scan_ws.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace duplex::apps {
namespace {

const std::vector<inet::Prefix> kLocal = {inet::Prefix::parse("127.0.0.1/8"),
                                          inet::Prefix::parse("192.168.1.20/24"),
                                          inet::Prefix::parse("10.0.0.5/16")};

struct Parsed {
  std::optional<ScanRequest> request;
  std::string cause, why;
};

Parsed parse(std::string_view json, ScanWsOptions options = {}) {
  Parsed p;
  p.request = parse_scan_request(json, kLocal, options, p.cause, p.why);
  return p;
}

TEST(ScanRequest, ASubnetAndAPortList) {
  const auto p = parse(R"({"targets":"192.168.1.0/24","ports":"22,80,443"})");
  ASSERT_TRUE(p.request) << p.why;
  EXPECT_EQ(p.request->targets.size(), 256u);
  EXPECT_EQ(p.request->targets.front().address.to_string(), "192.168.1.0");
  EXPECT_EQ(p.request->ports, (std::vector<std::uint16_t>{22, 80, 443}));
}

TEST(ScanRequest, TopPortsAndSeveralTargets) {
  const auto p = parse(R"({"targets":"127.0.0.1, 192.168.1.5-9","ports":"top 100"})");
  ASSERT_TRUE(p.request) << p.why;
  EXPECT_EQ(p.request->targets.size(), 6u);
  EXPECT_EQ(p.request->ports.size(), 100u);
  EXPECT_EQ(p.request->ports.front(), 80);                   // nmap's most frequent
  EXPECT_TRUE(parse(R"({"targets":"127.0.0.1"})").request);  // ports: top 100
}

TEST(ScanRequest, BadJsonIsARequestError) {
  for (const char* bad : {"", "{", "not json", "[]", R"({"ports":"22"})", R"({"targets":5})",
                          R"({"targets":"127.0.0.1","ports":[22]})"}) {
    const auto p = parse(bad);
    EXPECT_FALSE(p.request) << bad;
    EXPECT_EQ(p.cause, "request") << bad;
    EXPECT_NE(p.why.find("targets"), std::string::npos) << p.why;
  }
}

TEST(ScanRequest, MalformedTargetsAndPortsNameTheWord) {
  auto p = parse(R"({"targets":"192.168.1.9-3","ports":"22"})");
  EXPECT_FALSE(p.request);
  EXPECT_EQ(p.cause, "request");
  EXPECT_NE(p.why.find("192.168.1.9-3"), std::string::npos) << p.why;
  p = parse(R"({"targets":"127.0.0.1","ports":"22,0"})");
  EXPECT_FALSE(p.request);
  EXPECT_NE(p.why.find("port 0"), std::string::npos) << p.why;
  p = parse(R"({"targets":"127.0.0.1","ports":"70000"})");
  EXPECT_FALSE(p.request);
  p = parse(R"({"targets":"127.0.0.1","ports":"top x"})");
  EXPECT_FALSE(p.request);
  EXPECT_EQ(p.cause, "request");
  p = parse(R"({"targets":"   ","ports":"22"})");
  EXPECT_FALSE(p.request);
  p = parse(R"({"targets":"localhost","ports":"22"})");
  EXPECT_FALSE(p.request);
  EXPECT_NE(p.why.find("is a name"), std::string::npos) << p.why;
}

TEST(ScanRequest, OffSubnetIsRefused) {
  for (const char* t : {"8.8.8.8", "192.168.2.0/24", "192.168.1.250-192.168.2.3",
                        "10.0.0.0/24 8.8.4.4", "2001:db8::1"}) {
    const auto p = parse(std::string(R"({"ports":"22","targets":")") + t + "\"}");
    EXPECT_FALSE(p.request) << t;
    EXPECT_EQ(p.cause, "bounds") << t;
    EXPECT_NE(p.why.find("outside this machine's subnets"), std::string::npos) << p.why;
  }
  EXPECT_TRUE(parse(R"({"targets":"::1","ports":"22"})").request);
  EXPECT_TRUE(parse(R"({"targets":"10.0.4.0/22","ports":"22"})").request);
}

TEST(ScanRequest, TooBigIsRefused) {
  auto p = parse(R"({"targets":"10.0.0.0/21","ports":"22"})");
  EXPECT_FALSE(p.request);
  EXPECT_EQ(p.cause, "bounds");
  EXPECT_NE(p.why.find("more than 1024 addresses"), std::string::npos) << p.why;
  p = parse(R"({"targets":"10.0.0.0/22 10.0.8.1","ports":"22"})");  // 1025 in all
  EXPECT_FALSE(p.request);
  EXPECT_EQ(p.cause, "bounds");
  p = parse(R"({"targets":"127.0.0.0/8","ports":"22"})");
  EXPECT_FALSE(p.request);
  p = parse(R"({"targets":"127.0.0.1","ports":"1-1001"})");
  EXPECT_FALSE(p.request);
  EXPECT_EQ(p.cause, "bounds");
  EXPECT_NE(p.why.find("1001 ports"), std::string::npos) << p.why;
  p = parse(R"({"targets":"127.0.0.1","ports":"-"})");
  EXPECT_FALSE(p.request);
  p = parse(R"({"targets":"127.0.0.1","ports":"top 1001"})");
  EXPECT_FALSE(p.request);
  EXPECT_EQ(p.cause, "bounds");
  EXPECT_TRUE(parse(R"({"targets":"127.0.0.1","ports":"1-1000"})").request);
  EXPECT_TRUE(parse(R"({"targets":"127.0.0.1","ports":"top 1000"})").request);
  const std::string huge = R"({"targets":")" + std::string(300, '1') + R"(","ports":"22"})";
  p = parse(huge);
  EXPECT_FALSE(p.request);
  EXPECT_NE(p.why.find("at most 256 characters"), std::string::npos) << p.why;
  ScanWsOptions small;
  small.max_addresses = 4;
  EXPECT_FALSE(parse(R"({"targets":"192.168.1.0/29","ports":"22"})", small).request);
}

TEST(ScanRequest, DefaultTargetsAreTheInterfacesSubnet) {
  EXPECT_EQ(default_scan_targets(inet::Address::parse("127.0.0.1"), kLocal, 1024), "127.0.0.1");
  EXPECT_EQ(default_scan_targets(inet::Address::parse("192.168.1.20"), kLocal, 1024),
            "192.168.1.0/24");
  EXPECT_EQ(default_scan_targets(inet::Address::parse("10.0.0.5"), kLocal, 1024), "10.0.0.0/24");
  EXPECT_EQ(default_scan_targets(inet::Address::parse("::ffff:192.168.1.20"), kLocal, 1024),
            "192.168.1.0/24");
  EXPECT_EQ(default_scan_targets(inet::Address::parse("172.16.0.1"), kLocal, 1024), "172.16.0.1");
}

}  // namespace
}  // namespace duplex::apps
