// Public. The dashboard's Capture page, server side: a live capture (apps/capture) streamed
// to the browser over WebSocket, one JSON message per packet.
//
//   GET /api/capture/interfaces   {"cap_net_raw":true,"why_not":null,"max_rate":100,
//                                  "interfaces":[{"name":"lo","up":true,...}]}
//   GET /ws/capture?iface=lo&filter=tcp+port+80&rate=20
//
// Both need the token, on loopback too (a capture shows other programs' traffic): 401
// without it. The socket speaks first and only (docs/api.md):
//   {"type":"started", "interface", "filter", "link_type", "rate", "headings"}
//   {"type":"packet", "number", "time", "length", "captured", "source", "destination",
//    "protocol", "summary", "bytes" (base64), "layers" (as `duplex capture --json`, each
//    field with its byte offset and length), "flow" ({"from","to","label"}, the --flow
//    arrow; absent for a packet that is neither ARP nor IP)}
//   {"type":"stats", "captured", "sent", "left_out", "kernel_dropped", "interface_dropped"}
//     every second: packets the filter passed, those sent, those left out by the rate cap
//     (or because the browser read too slowly), and pcap_stats' drops
//   {"type":"error", "cause", "message"} then Close 1000: the capture could not start or
//     failed (cause: "interface", "filter", "rate", "permission", "busy" or "capture").
// The libpcap fd is watched by the loop (non-blocking, at most 64 packets a round), so
// nothing blocks; closing the socket closes the capture.
//
// Loop thread only. The options are copied; captures that outlive the router's use of the
// route end when their sockets close.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

namespace duplex::http {
class Router;
struct Request;
}  // namespace duplex::http

namespace duplex::apps {

struct CaptureWsOptions {
  // The most packets a second one page gets (`duplex serve --capture-rate`); ?rate= may ask
  // fewer. The rest are counted as left out.
  unsigned max_rate = 100;
  unsigned max_captures = 4;  // open at once; more are refused ("busy")
  std::chrono::milliseconds report_every{1000};
  // Unsent bytes toward a browser past which packets are left out rather than queued.
  std::size_t max_output = std::size_t{4} << 20;
  // Whether the request carries the server's token.
  std::function<bool(const http::Request&)> has_token;
};

// Adds GET /api/capture/interfaces and GET /ws/capture.
void add_capture_routes(http::Router& router, CaptureWsOptions options);

}  // namespace duplex::apps
