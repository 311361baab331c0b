#include "duplex/apps/chat/discovery_probe.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <span>

#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/apps/chat/discovery.h"
#include "duplex/base/error.h"
#include "duplex/proto/tls_context.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/socket.h"
#include "duplex/transport/udp_socket.h"

namespace duplex::apps {
namespace {

std::optional<std::uint16_t> port_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  const auto n = it->get<std::uint64_t>();
  if (n > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(n);
}

std::string string_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// 64 hex digits (no colons) as "AB:CD:...", the way serve prints a fingerprint; "" if `hex`
// is not that.
std::string colon_fingerprint(std::string_view hex) {
  const auto f = hex.size() == 64 ? tls::parse_fingerprint(hex) : std::nullopt;
  return f ? tls::fingerprint_text(*f) : std::string();
}

}  // namespace

std::string DiscoveredServer::dashboard_url() const {
  if (http_port == 0) return {};
  const std::string host_part =
      address.is_v4() ? address.to_string() : "[" + address.to_string() + "]";
  return (tls ? "https://" : "http://") + host_part + ":" + std::to_string(http_port) + "/";
}

std::optional<DiscoveredServer> parse_discovery_answer(std::string_view datagram,
                                                       const inet::Address& from) {
  const auto j = nlohmann::json::parse(datagram, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || string_field(j, "service") != "duplex") return std::nullopt;
  const auto chat_port = port_field(j, "chat_port");
  if (!chat_port || *chat_port == 0) return std::nullopt;
  DiscoveredServer s;
  s.address = from;
  s.chat_port = *chat_port;
  s.http_port = port_field(j, "http_port").value_or(0);
  s.host = string_field(j, "host");
  s.version = string_field(j, "version");
  const auto token = j.find("token_required");
  s.token_required = token != j.end() && token->is_boolean() && token->get<bool>();
  const auto tls = j.find("tls");
  s.tls = tls != j.end() && tls->is_boolean() && tls->get<bool>();
  if (s.tls) s.sha256 = colon_fingerprint(string_field(j, "sha256"));
  return s;
}

DiscoveryProbe::DiscoveryProbe(EventLoop* loop, ProbeOptions options)
    : loop_(loop), options_(std::move(options)) {}

DiscoveryProbe::~DiscoveryProbe() {
  loop_->cancel(repeat_timer_);
  loop_->cancel(deadline_timer_);
}

void DiscoveryProbe::start(FoundCallback found, DoneCallback done) {
  loop_->assert_in_loop_thread();
  found_ = std::move(found);
  done_ = std::move(done);
  const bool v4 = options_.target.address().is_v4();
  const inet::Endpoint any(v4 ? inet::Address::v4(0) : inet::Address::parse("::"), 0);
  socket_ = std::make_unique<UdpSocket>(loop_, any);
  // Harmless for a unicast target; needed for every broadcast one (else EACCES).
  if (v4) socket_->set_broadcast(true);
  socket_->start_reading([this](std::span<const Datagram> batch) {
    for (const auto& d : batch) {
      if (!running_ || d.truncated) continue;
      auto server = parse_discovery_answer(d.data, d.peer.address());
      if (!server) continue;
      const inet::Endpoint key = server->chat();
      if (std::find(seen_.begin(), seen_.end(), key) != seen_.end()) continue;
      seen_.push_back(key);
      if (found_) found_(*server);
    }
  });
  running_ = true;
  send_probe(true);
  repeat_timer_ = loop_->run_after(options_.timeout / 3, [this] { send_probe(false); });
  deadline_timer_ = loop_->run_after(options_.timeout, [this] { finish(); });
}

void DiscoveryProbe::send_probe(bool first) {
  if (!running_) return;
  const int err = socket_->send_to(discovery_probe(), options_.target);
  // The repeat is a second chance only: its failure changes nothing.
  if (err != 0 && first) {
    running_ = false;
    throw Error(socket_error("sendto", err, &options_.target));
  }
}

void DiscoveryProbe::stop() { finish(); }

void DiscoveryProbe::finish() {
  if (!running_) return;
  running_ = false;
  loop_->cancel(repeat_timer_);
  loop_->cancel(deadline_timer_);
  if (socket_) socket_->stop_reading();
  if (done_) done_(seen_.size());
}

}  // namespace duplex::apps
