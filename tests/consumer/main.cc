// Uses the installed headers and libraries: the same subnet question the CLI answers.
#include <duplex/inet/prefix.h>
#include <duplex/link/mac_address.h>

#include <iostream>

int main() {
  auto net = duplex::inet::Prefix::parse("172.16.10.1/24");
  auto other = duplex::inet::Address::parse("172.16.10.2");
  auto mac = duplex::link::MacAddress::parse("00-00-0C-12-34-56");
  std::cout << net.network().to_string() << ' ' << (net.contains(other) ? "same" : "other") << ' '
            << mac.to_string() << '\n';
  return net.contains(other) ? 0 : 1;
}
