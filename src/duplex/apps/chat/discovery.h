// Public. The answering side of `duplex serve`'s UDP discovery (chat_protocol.h): a socket
// on the discovery port that answers each probe datagram (kDiscoveryProbe) by unicast to
// its sender with one JSON object naming the service, the host and the ports.
//
// loopback_only: when the server listens on loopback only, a prober elsewhere could not
// reach it, so only probes from loopback sources are answered. Anything that is not exactly
// the probe is ignored (never answered: no reflection of arbitrary datagrams), and the
// answer is at most as long as the probe (no amplification).
// Loop thread only.
#pragma once

#include <cstdint>
#include <string>

#include "duplex/inet/endpoint.h"
#include "duplex/transport/udp_socket.h"

namespace duplex::apps {

struct DiscoveryInfo {
  std::string version;
  std::string host;  // gethostname()
  std::uint16_t chat_port = 0;
  std::uint16_t http_port = 0;
  bool token_required = false;
  // TLS on the chat port and the dashboard: the certificate's SHA-256 as 64 hex digits (no
  // colons, to keep the answer small); "" in clear text. Any other length is left out.
  std::string tls_sha256 = {};
};

// The answer: {"service":"duplex","version":...,"host":...,"chat_port":...,
// "http_port":...,"token_required":...}, with "tls":true and "sha256":"..." when TLS is on,
// at most kDiscoveryProbeBytes long (a longer host name is cut, then the version).
std::string discovery_answer(const DiscoveryInfo& info);
// The probe datagram: kDiscoveryProbe padded with spaces to kDiscoveryProbeBytes.
std::string discovery_probe();
// Whether a datagram is exactly the probe.
bool is_discovery_probe(std::string_view datagram) noexcept;

class DiscoveryResponder {
 public:
  // Binds `listen` (SO_REUSEADDR, so several servers on one host can share the port for
  // broadcasts) and starts answering. Throws duplex::Error.
  DiscoveryResponder(EventLoop* loop, const inet::Endpoint& listen, DiscoveryInfo info,
                     bool loopback_only);

  const inet::Endpoint& local() const noexcept { return socket_.local(); }
  std::uint64_t answered() const noexcept { return answered_; }

 private:
  UdpSocket socket_;
  std::string answer_;
  bool loopback_only_;
  std::uint64_t answered_ = 0;
};

}  // namespace duplex::apps
