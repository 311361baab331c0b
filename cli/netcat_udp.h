// Internal to the CLI. UDP for `duplex connect -u` and `duplex listen -u`: stdin reads
// become datagrams, datagrams go to stdout.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "duplex/inet/access_list.h"
#include "duplex/inet/endpoint.h"
#include "netcat.h"

namespace duplex {
class EventLoop;
}

namespace duplex::cli::netcat {

struct UdpExtras {
  bool broadcast = false;
  std::optional<inet::Address> multicast;  // a group to join (listen) or send to (connect)
  int ttl = -1;                            // multicast hops; -1: the system's (1)
  std::string interface;                   // multicast interface ("lo"), "" for the route's
  std::size_t max_peers = 0;               // listen: 0 for no limit
  inet::AccessList access;                 // listen: which peers are served
  std::optional<inet::Endpoint> local;     // connect: the source (-s, -p); else any
};

// Sends each read of stdin as one datagram to `peer` and writes what comes back to stdout.
// Unicast peers are connect()ed, so only their datagrams arrive, and an ICMP port
// unreachable ends the session with status 1 (as ncat does); broadcast and multicast take
// replies from anyone. Ends --quit-after seconds (default 1) after stdin EOF.
int udp_connect(EventLoop& loop, const inet::Endpoint& peer, const Common& common,
                const Events& events, const UdpExtras& extras = {});

// Serves every peer that sends to `local`, told apart by address: each peer's datagrams go
// to stdout, and each read of stdin goes to every peer seen so far.
int udp_listen(EventLoop& loop, const inet::Endpoint& local, const Common& common,
               const Events& events, const UdpExtras& extras);

}  // namespace duplex::cli::netcat
