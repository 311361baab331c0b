#include "duplex/apps/capture/capture_stats.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace duplex::capture {
namespace {

constexpr dissect::Layer kLayers[] = {dissect::Layer::link, dissect::Layer::network,
                                      dissect::Layer::transport, dissect::Layer::application};

std::size_t layer_index(dissect::Layer l) noexcept {
  switch (l) {
    case dissect::Layer::link:
      return 0;
    case dissect::Layer::network:
      return 1;
    case dissect::Layer::transport:
      return 2;
    default:
      return 3;
  }
}

std::string row(std::string_view name, const Tally& t) {
  char line[160];
  std::snprintf(line, sizeof line, "  %-46.*s %10llu packets %14llu bytes\n",
                static_cast<int>(name.size()), name.data(),
                static_cast<unsigned long long>(t.packets),
                static_cast<unsigned long long>(t.bytes));
  return line;
}

std::string endpoint(const inet::Address& a, std::uint16_t port) {
  return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(port)
                   : a.to_string() + ":" + std::to_string(port);
}

std::string direction_text(const TcpDirection& d) {
  std::string s =
      std::to_string(d.packets) + " packets, " + std::to_string(d.payload_bytes) + " bytes of data";
  if (d.retransmissions != 0)
    s += ", " + std::to_string(d.retransmissions) +
         (d.retransmissions == 1 ? " retransmission" : " retransmissions");
  if (d.fin) s += ", FIN";
  return s;
}

}  // namespace

const Tally& CaptureStats::layer(dissect::Layer l) const noexcept {
  return layers_[layer_index(l)];
}

void CaptureStats::add(const DecodedPacket& p, Timestamp time) {
  const double t = seconds(time);
  if (total_.packets == 0) first_ = t;
  last_ = t;
  total_.add(p.length);
  std::array<bool, 4> seen{};
  for (std::uint8_t i = 0; i < p.layer_count; ++i) {
    const Protocol proto = p.layers[i].protocol;
    // A protocol twice in one packet (none today) counts once.
    bool again = false;
    for (std::uint8_t j = 0; j < i; ++j) again = again || p.layers[j].protocol == proto;
    if (!again) protocols_[static_cast<std::size_t>(proto)].add(p.length);
    seen[layer_index(protocol_layer(proto))] = true;
  }
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (seen[i]) layers_[i].add(p.length);
  if (const auto* source = p.source()) {
    auto it = talkers_.find(*source);
    if (it != talkers_.end())
      it->second.add(p.length);
    else if (talkers_.size() < kMaxTalkers)
      talkers_[*source].add(p.length);
  }
  tcp_.add(p, t);
}

std::string CaptureStats::report() const {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "%llu packets, %llu bytes in %.6f s\n",
                static_cast<unsigned long long>(total_.packets),
                static_cast<unsigned long long>(total_.bytes),
                total_.packets == 0 ? 0.0 : last_ - first_);
  out += line;
  out += "By layer:\n";
  for (const auto l : kLayers)
    if (layer(l).packets != 0) out += row(dissect::heading(l), layer(l));
  out += "By protocol:\n";
  for (std::size_t i = 0; i < kProtocolCount; ++i) {
    const auto p = static_cast<Protocol>(i);
    if (protocols_[i].packets != 0) out += row(protocol_name(p), protocols_[i]);
  }
  if (!talkers_.empty()) {
    std::vector<std::pair<inet::Address, Tally>> top(talkers_.begin(), talkers_.end());
    std::stable_sort(top.begin(), top.end(),
                     [](const auto& a, const auto& b) { return a.second.bytes > b.second.bytes; });
    if (top.size() > kTopTalkers) top.resize(kTopTalkers);
    out += "Top talkers (bytes sent):\n";
    for (const auto& [address, tally] : top) out += row(address.to_string(), tally);
  }
  if (!tcp_.conversations().empty()) {
    std::vector<const TcpConversation*> list;
    for (const auto& [key, c] : tcp_.conversations()) list.push_back(&c);
    std::sort(list.begin(), list.end(),
              [](const auto* a, const auto* b) { return a->order < b->order; });
    out += "TCP conversations:\n";
    for (const auto* c : list) {
      const bool first_is_client = c->client_is_first;
      const auto& k = c->key;
      const std::string client =
          first_is_client ? endpoint(k.first, k.first_port) : endpoint(k.second, k.second_port);
      const std::string server =
          first_is_client ? endpoint(k.second, k.second_port) : endpoint(k.first, k.first_port);
      out += "  " + client + " <-> " + server;
      if (const auto rtt = c->handshake_rtt()) {
        std::snprintf(line, sizeof line, "  handshake RTT %.3f ms", *rtt * 1000);
        out += line;
      } else {
        out += "  (no whole handshake seen)";
      }
      if (c->reset) out += ", reset";
      out += '\n';
      const auto& to_server = c->direction[first_is_client ? 0 : 1];
      const auto& to_client = c->direction[first_is_client ? 1 : 0];
      out += "    " + client + " -> " + direction_text(to_server) + '\n';
      out += "    " + server + " -> " + direction_text(to_client) + '\n';
    }
    if (tcp_.untracked() != 0)
      out += "  (" + std::to_string(tcp_.untracked()) +
             " packets of further conversations not followed)\n";
  }
  return out;
}

}  // namespace duplex::capture
