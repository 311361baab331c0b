#include "duplex/apps/discovery.h"

#include <nlohmann/json.hpp>

#include "duplex/apps/chat_protocol.h"

namespace duplex::apps {

std::string discovery_answer(const DiscoveryInfo& info) {
  return nlohmann::json{{"service", "duplex"},         {"version", info.version},
                        {"host", info.host},           {"chat_port", info.chat_port},
                        {"http_port", info.http_port}, {"token_required", info.token_required}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool is_discovery_probe(std::string_view datagram) noexcept {
  std::string_view probe = chat::kDiscoveryProbe;
  if (datagram == probe) return true;
  probe.remove_suffix(1);  // without its newline
  return datagram == probe;
}

DiscoveryResponder::DiscoveryResponder(EventLoop* loop, const inet::Endpoint& listen,
                                       DiscoveryInfo info, bool loopback_only)
    : socket_(loop, listen, UdpOptions{.reuse_addr = true, .batch = 8, .max_datagram = 512}),
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
