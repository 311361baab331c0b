// Public. The dashboard's Hosts page, server side: a TCP connect scan (apps/scan) of the
// machine's own subnets, run on the server's loop and streamed to the browser over
// WebSocket as the results arrive.
//
//   GET /ws/scan    needs the token, on loopback too (a scan sends probes for the page):
//                   401 without it.
// The server speaks first, {"type":"ready","targets","max_addresses","max_ports"}
// (targets: a default, the subnet of the address the page connected to); the page sends
// one request, {"targets":"192.168.1.0/24","ports":"top 100"} (ports: a list as
// `duplex scan -p` reads it, or "top N"), and gets
//   {"type":"started", "targets", "addresses", "ports"}
//   {"type":"host", "host", "mac", "vendor"}   a host that answered on some port (open or
//       closed); MAC from the neighbour table, vendor from the OUI table, "" when unknown
//   {"type":"port", "host", "port", "state":"open", "service"}   each open port
//   {"type":"progress", "done", "total", "open", "hosts_done", "hosts"}   every second
//   {"type":"done", "hosts_up", "ports_open", "seconds"}   then Close 1000
//   {"type":"error", "cause", "message"} then Close 1000: a bad request (cause "request":
//       not JSON, a malformed target or port list, a host name; "bounds": an address
//       outside the local subnets and loopback, more than max_addresses addresses or
//       max_ports ports), "busy" (max_scans running) or "scan".
// One scan per connection; closing the socket stops the scan.
//
// Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/apps/scan/targets.h"
#include "duplex/inet/prefix.h"

namespace duplex::http {
class Router;
struct Request;
}  // namespace duplex::http

namespace duplex::apps {

struct ScanWsOptions {
  std::uint64_t max_addresses = 1024;  // a /22
  std::size_t max_ports = 1000;
  unsigned max_scans = 2;          // running at once; more are refused ("busy")
  std::size_t max_inflight = 256;  // probe sockets of one scan
  std::function<bool(const http::Request&)> has_token;
};

// A scan the page asked for, within the options' bounds.
struct ScanRequest {
  std::string targets_text, ports_text;  // as sent
  std::vector<scan::Target> targets;
  std::vector<std::uint16_t> ports;
};

// The page's request (one JSON text), checked against the options and `local` (what
// scan::local_prefixes() returns). nullopt, `cause` ("request" or "bounds") and `why` (one
// line naming the value and the fix) when it is wrong. Names are refused (resolving them
// would block the loop, and they may lead off the subnet).
std::optional<ScanRequest> parse_scan_request(std::string_view json,
                                              const std::vector<inet::Prefix>& local,
                                              const ScanWsOptions& options, std::string& cause,
                                              std::string& why);

// What the form starts with for a page that connected to `address`: loopback (or an
// address in no prefix of `local`, or IPv6) scans that address alone; otherwise its
// interface's subnet, or the /24 around it when that subnet has more than `max_addresses`.
std::string default_scan_targets(const inet::Address& address,
                                 const std::vector<inet::Prefix>& local,
                                 std::uint64_t max_addresses);

// Adds GET /ws/scan.
void add_scan_routes(http::Router& router, ScanWsOptions options);

}  // namespace duplex::apps
