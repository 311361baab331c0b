#include "duplex/apps/perf/perf_live.h"

namespace duplex::apps::perf {
namespace {

using Json = nlohmann::json;

double mbps(double bits_per_second) { return bits_per_second / 1e6; }

// j[key] when it is a number.
const Json* number(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? &*it : nullptr;
}

}  // namespace

Json live_started(const LiveTest& test) {
  const TestParameters& p = test.params;
  return {{"type", "started"},     {"run", test.run},
          {"source", test.source}, {"host", test.host},
          {"port", test.port},     {"protocol", p.protocol == Protocol::kUdp ? "UDP" : "TCP"},
          {"reverse", p.reverse},  {"streams", p.parallel},
          {"time", p.time},        {"rate", p.bandwidth}};
}

Json live_interval(const std::string& run, int index, const Interval& interval, Protocol protocol) {
  Json j = {{"type", "interval"}, {"run", run}, {"index", index}};
  std::uint64_t bytes = 0, cwnd = 0, packets = 0;
  std::int64_t retransmits = 0, lost = 0;
  double rtt = 0, rttvar = 0, jitter = 0, start = 0, end = 0;
  int tcp_senders = 0, udp_receivers = 0;
  bool omitted = false;
  for (const StreamSample& s : interval) {
    bytes += s.bytes;
    start = s.start;
    end = s.end;
    omitted = s.omitted;
    if (protocol == Protocol::kTcp && s.sender && s.tcp_info) {
      ++tcp_senders;
      retransmits += s.retransmits;
      cwnd += s.snd_cwnd;
      rtt += s.rtt;
      rttvar += s.rttvar;
    } else if (protocol == Protocol::kUdp && !s.sender) {
      ++udp_receivers;
      lost += s.lost;
      packets += s.packets;
      jitter += s.jitter;
    }
  }
  const double seconds = end - start;
  j["start"] = start;
  j["end"] = end;
  j["bytes"] = bytes;
  j["mbps"] = seconds > 0 ? mbps(static_cast<double>(bytes) * 8 / seconds) : 0.0;
  j["omitted"] = omitted;
  if (tcp_senders > 0) {
    j["retransmits"] = retransmits;
    j["cwnd"] = cwnd;
    j["rtt_ms"] = rtt / tcp_senders / 1000.0;
    j["rttvar_ms"] = rttvar / tcp_senders / 1000.0;
  }
  if (udp_receivers > 0) {
    j["lost"] = lost;
    j["packets"] = packets;
    j["loss_percent"] =
        packets > 0 ? 100.0 * static_cast<double>(lost) / static_cast<double>(packets) : 0.0;
    j["jitter_ms"] = jitter / udp_receivers * 1000.0;
  }
  return j;
}

Json live_end(const std::string& run, const Json& report, bool ok, const std::string& why) {
  Json j = {{"type", "end"}, {"run", run}, {"ok", ok}};
  if (!ok) j["error"] = why;
  const Json empty = Json::object();
  const Json& end = report.is_object() && report.contains("end") ? report["end"] : empty;
  const Json& sent = end.contains("sum_sent") ? end["sum_sent"] : empty;
  const Json& received = end.contains("sum_received") ? end["sum_received"] : empty;
  if (const Json* v = number(sent, "bytes")) j["sent_bytes"] = *v;
  if (const Json* v = number(received, "bytes")) j["received_bytes"] = *v;
  if (const Json* v = number(sent, "bits_per_second")) j["sent_mbps"] = mbps(v->get<double>());
  if (const Json* v = number(received, "bits_per_second"))
    j["received_mbps"] = mbps(v->get<double>());
  if (const Json* v = number(sent, "seconds")) j["seconds"] = *v;
  if (const Json* v = number(sent, "retransmits")) j["retransmits"] = *v;
  if (end.contains("sum")) {
    const Json& udp = end["sum"];
    if (const Json* v = number(udp, "lost_packets")) j["lost"] = *v;
    if (const Json* v = number(udp, "packets")) j["packets"] = *v;
    if (const Json* v = number(udp, "lost_percent")) j["loss_percent"] = *v;
    if (const Json* v = number(udp, "jitter_ms")) j["jitter_ms"] = *v;
  }
  return j;
}

}  // namespace duplex::apps::perf
