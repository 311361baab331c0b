#include "duplex/inet/endpoint.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>

#include <string>

#include "duplex/base/error.h"

namespace duplex::inet {
namespace {

std::string error_of(std::string_view text) {
  try {
    Endpoint::parse(text);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "(parsed)";
}

TEST(EndpointParse, ReadsIPv4AndBracketedIPv6) {
  const auto v4 = Endpoint::parse("1.2.3.4:80");
  EXPECT_EQ(v4.address(), Address::parse("1.2.3.4"));
  EXPECT_EQ(v4.port(), 80);
  const auto v6 = Endpoint::parse("[::1]:8080");
  EXPECT_EQ(v6.address(), Address::parse("::1"));
  EXPECT_EQ(v6.port(), 8080);
  EXPECT_EQ(Endpoint::parse("0.0.0.0:0").port(), 0);
  EXPECT_EQ(Endpoint::parse("[2001:db8::1]:65535").port(), 65535);
}

TEST(EndpointParse, PrintsWhatItReads) {
  EXPECT_EQ(Endpoint::parse("1.2.3.4:80").to_string(), "1.2.3.4:80");
  EXPECT_EQ(Endpoint::parse("[2001:DB8:0::1]:443").to_string(), "[2001:db8::1]:443");
}

TEST(EndpointParse, RejectsMissingOrBadPortsAndBareIPv6) {
  EXPECT_NE(error_of("1.2.3.4").find("no port"), std::string::npos);
  EXPECT_NE(error_of("1.2.3.4:65536").find("port '65536'"), std::string::npos);
  EXPECT_NE(error_of("1.2.3.4:").find("port ''"), std::string::npos);
  EXPECT_NE(error_of("::1:80").find("needs brackets"), std::string::npos);
  EXPECT_NE(error_of("[::1]").find("expected ':PORT'"), std::string::npos);
  EXPECT_NE(error_of("[::1:80").find("closing ']'"), std::string::npos);
  EXPECT_NE(error_of("[1.2.3.4]:80").find("brackets are for IPv6"), std::string::npos);
  EXPECT_NE(error_of("300.1.1.1:80").find("octet 300 is above 255"), std::string::npos);
}

TEST(EndpointSockaddr, RoundTripsIPv4) {
  const auto e = Endpoint::parse("192.0.2.1:8080");
  sockaddr_storage ss{};
  const socklen_t len = e.to_sockaddr(ss);
  ASSERT_EQ(len, sizeof(sockaddr_in));
  const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
  EXPECT_EQ(sin->sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin->sin_port), 8080);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), 0xC0000201u);
  EXPECT_EQ(Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len), e);
}

TEST(EndpointSockaddr, RoundTripsIPv6) {
  const auto e = Endpoint::parse("[2001:db8::1]:443");
  sockaddr_storage ss{};
  const socklen_t len = e.to_sockaddr(ss);
  ASSERT_EQ(len, sizeof(sockaddr_in6));
  EXPECT_EQ(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_family, AF_INET6);
  EXPECT_EQ(Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len), e);
}

TEST(EndpointSockaddr, RefusesShortLengthsAndOtherFamilies) {
  sockaddr_storage ss{};
  const socklen_t len = Endpoint::parse("[::1]:1").to_sockaddr(ss);
  const auto* sa = reinterpret_cast<const sockaddr*>(&ss);
  EXPECT_FALSE(Endpoint::from_sockaddr(sa, len - 1));
  EXPECT_FALSE(Endpoint::from_sockaddr(nullptr, len));
  ss.ss_family = AF_UNIX;
  EXPECT_FALSE(Endpoint::from_sockaddr(sa, len));
}

TEST(EndpointScope, ReadsAZoneAsAnInterfaceNameOrIndex) {
  const std::uint32_t lo = ::if_nametoindex("lo");
  ASSERT_NE(lo, 0u);
  const auto named = Endpoint::parse("[fe80::1%lo]:80");
  EXPECT_EQ(named.address(), Address::parse("fe80::1"));
  EXPECT_EQ(named.scope_id(), lo);
  EXPECT_EQ(named.to_string(), "[fe80::1%lo]:80");
  EXPECT_EQ(Endpoint::parse("[fe80::1%" + std::to_string(lo) + "]:80"), named);
  EXPECT_EQ(Endpoint::parse_host("fe80::1%lo", 22).host_string(), "fe80::1%lo");
  EXPECT_EQ(Endpoint::parse_host("192.0.2.1", 22).scope_id(), 0u);
}

TEST(EndpointScope, RefusesAnUnknownInterfaceAndAZoneOnIPv4) {
  EXPECT_NE(error_of("[fe80::1%no-such-if0]:80").find("names no network interface"),
            std::string::npos);
  EXPECT_NE(error_of("[fe80::1%]:80").find("empty zone"), std::string::npos);
  try {
    Endpoint::parse_host("192.0.2.1%lo", 80);
    ADD_FAILURE() << "parsed";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("for IPv6"), std::string::npos) << e.what();
  }
}

TEST(EndpointScope, CarriesTheScopeIntoAndOutOfSockaddrIn6) {
  const auto e = Endpoint::parse("[fe80::1%lo]:5353");
  sockaddr_storage ss{};
  const socklen_t len = e.to_sockaddr(ss);
  EXPECT_EQ(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_scope_id, ::if_nametoindex("lo"));
  EXPECT_EQ(Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len), e);
}

}  // namespace
}  // namespace duplex::inet
