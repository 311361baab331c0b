#include "duplex/apps/chat/discovery.h"

#include <nlohmann/json.hpp>

#include "duplex/apps/chat/chat_protocol.h"

namespace duplex::apps {

std::string discovery_answer(const DiscoveryInfo& info) {
  std::string host = info.host;
  std::string version = info.version;
  while (true) {
    auto fields = nlohmann::json{{"service", "duplex"},
                                 {"version", version},
                                 {"host", host},
                                 {"chat_port", info.chat_port},
                                 {"http_port", info.http_port},
                                 {"token_required", info.token_required}};
    if (info.tls_sha256.size() == 64) {  // anything else would not be a SHA-256
      fields["tls"] = true;
      fields["sha256"] = info.tls_sha256;
    }
    auto answer = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Never larger than the probe: a reflected answer must not amplify. The host is cut
    // first, then the version; with both empty the answer is about 110 bytes (190 with
    // TLS).
    if (answer.size() <= chat::kDiscoveryProbeBytes) return answer;
    if (!host.empty()) {
      host.resize(host.size() / 2);
    } else {
      version.resize(version.size() / 2);
    }
  }
}

std::string discovery_probe() {
  std::string probe(chat::kDiscoveryProbe);
  probe.resize(chat::kDiscoveryProbeBytes, ' ');
  return probe;
}

bool is_discovery_probe(std::string_view datagram) noexcept {
  if (datagram.size() != chat::kDiscoveryProbeBytes) return false;
  if (datagram.substr(0, chat::kDiscoveryProbe.size()) != chat::kDiscoveryProbe) return false;
  return datagram.find_first_not_of(' ', chat::kDiscoveryProbe.size()) == std::string_view::npos;
}

DiscoveryResponder::DiscoveryResponder(EventLoop* loop, const inet::Endpoint& listen,
                                       DiscoveryInfo info, bool loopback_only)
    : socket_(loop, listen, UdpOptions{.reuse_addr = true, .batch = 8, .max_datagram = 1024}),
      answer_(discovery_answer(info)),
      loopback_only_(loopback_only) {
  socket_.start_reading([this](std::span<const Datagram> batch) {
    for (const auto& d : batch) {
      if (d.truncated || !is_discovery_probe(d.data)) continue;
      if (loopback_only_ && !d.peer.address().is_loopback()) continue;
      if (socket_.send_to(answer_, d.peer) == 0) ++answered_;
    }
  });
}

}  // namespace duplex::apps
