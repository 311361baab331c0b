// Public. The asking side of `duplex serve`'s UDP discovery (the answering side is
// apps/discovery): sends the probe datagram (discovery_probe()) to a broadcast address,
// 255.255.255.255 by default, and collects the servers that answer until a deadline. The
// seed's one-to-many UDP: one datagram out, one unicast answer back from each server.
//
// The probe goes out twice (at once and at a third of the timeout), since UDP may drop a
// datagram; answers are counted once per server (address and chat port).
//
// Loop thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/inet/endpoint.h"
#include "duplex/reactor/timer_queue.h"

namespace duplex {
class EventLoop;
class UdpSocket;
}  // namespace duplex

namespace duplex::apps {

// One server's answer.
struct DiscoveredServer {
  inet::Address address;  // the answer's source: where the server is
  std::string host;       // its host name
  std::string version;
  std::uint16_t chat_port = 0;
  std::uint16_t http_port = 0;  // 0 when it runs no dashboard
  bool token_required = false;  // the dashboard wants ?token=...
  bool tls = false;             // TLS on the chat port, HTTPS on the dashboard
  // The certificate's SHA-256 that the answer names, "AB:CD:..." as serve prints it; "" when
  // it named none (or not 64 hex digits). Anyone on the link can answer a probe, so this
  // says which certificate the answer claims, not that it is the right one.
  std::string sha256;

  inet::Endpoint chat() const { return {address, chat_port}; }
  // "http://10.0.0.5:8080/" ("https://[2001:db8::5]:8080/" with TLS); empty without an
  // HTTP port.
  std::string dashboard_url() const;
};

// One answer datagram, as the server sends it ({"service":"duplex",...}); nullopt when it is
// not a duplex answer (another program on the port, a truncated datagram, a probe).
std::optional<DiscoveredServer> parse_discovery_answer(std::string_view datagram,
                                                       const inet::Address& from);

struct ProbeOptions {
  // Where the probe goes: a broadcast address (255.255.255.255, a subnet's x.y.z.255,
  // 127.255.255.255 for this host) or one server's unicast address.
  inet::Endpoint target{inet::Address::v4(0xffffffffu), 7001};
  std::chrono::steady_clock::duration timeout = std::chrono::seconds(1);
};

class DiscoveryProbe {
 public:
  using FoundCallback = std::function<void(const DiscoveredServer&)>;
  // At the deadline (or after stop()): how many servers answered.
  using DoneCallback = std::function<void(std::size_t found)>;

  DiscoveryProbe(EventLoop* loop, ProbeOptions options);
  ~DiscoveryProbe();
  DiscoveryProbe(const DiscoveryProbe&) = delete;
  DiscoveryProbe& operator=(const DiscoveryProbe&) = delete;

  // Sends the probe and starts collecting: `found` runs once per server as its answer
  // arrives, `done` once at the deadline. Throws duplex::Error naming the cause when the
  // socket cannot be made or the first probe cannot be sent (no route to the address, ...).
  void start(FoundCallback found, DoneCallback done);
  // Ends early; `done` runs at once with what was found so far.
  void stop();

  const ProbeOptions& options() const noexcept { return options_; }

 private:
  void send_probe(bool first);
  void finish();

  EventLoop* loop_;
  ProbeOptions options_;
  std::unique_ptr<UdpSocket> socket_;
  std::vector<inet::Endpoint> seen_;  // address + chat port of each server found
  FoundCallback found_;
  DoneCallback done_;
  TimerId repeat_timer_, deadline_timer_;
  bool running_ = false;
};

}  // namespace duplex::apps
