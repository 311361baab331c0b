#include "duplex/apps/perf/perf_report.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace duplex::apps::perf {
namespace {

double lost_percent(std::int64_t lost, std::uint64_t packets) {
  return packets == 0 ? 0.0 : 100.0 * static_cast<double>(lost) / static_cast<double>(packets);
}

double rate(std::uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) * 8.0 / seconds : 0.0;
}

// The fields every entry has, iperf3's order.
nlohmann::json base_entry(int socket, double start, double end, double seconds,
                          std::uint64_t bytes) {
  nlohmann::json j;
  if (socket >= 0) j["socket"] = socket;
  j["start"] = start;
  j["end"] = end;
  j["seconds"] = seconds;
  j["bytes"] = bytes;
  j["bits_per_second"] = rate(bytes, seconds);
  return j;
}

void add_udp_receiver(nlohmann::json& j, double jitter, std::int64_t lost, std::uint64_t packets) {
  j["jitter_ms"] = jitter * 1000.0;
  j["lost_packets"] = lost;
  j["packets"] = packets;
  j["lost_percent"] = lost_percent(lost, packets);
}

std::string time_text(double start, double end) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%6.2f-%-6.2f sec", start, end);
  return buf;
}

std::string id_text(int socket) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "[%3d]", socket);
  return buf;
}

}  // namespace

double StreamSample::bits_per_second() const noexcept { return rate(bytes, seconds()); }

void TcpSummary::add(const StreamSample& s) noexcept {
  if (!s.tcp_info) return;
  max_snd_cwnd = std::max(max_snd_cwnd, s.snd_cwnd);
  max_snd_wnd = std::max(max_snd_wnd, s.snd_wnd);
  max_rtt = std::max(max_rtt, s.rtt);
  min_rtt = rtt_samples == 0 ? s.rtt : std::min(min_rtt, s.rtt);
  rtt_sum += s.rtt;
  ++rtt_samples;
}

namespace {

// A scaled value in iperf3's way: three significant digits at most ("9.54", "95.4", "954").
std::string three_digits(double value, const char* unit) {
  char buf[32];
  std::snprintf(buf, sizeof buf,
                value < 9.995   ? "%4.2f %s"
                : value < 99.95 ? "%4.1f %s"
                                : "%4.0f %s",
                value, unit);
  return buf;
}

}  // namespace

std::string format_bytes(double bytes) {
  const char* units[] = {"Bytes", "KBytes", "MBytes", "GBytes", "TBytes"};
  int u = 0;
  while (bytes >= 1024.0 * 1024.0 && u < 4) {  // iperf3 switches a unit later than 1024
    bytes /= 1024.0;
    ++u;
  }
  if (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  return three_digits(bytes, units[u]);
}

std::string format_bits(double bps) {
  const char* units[] = {"bits/sec", "Kbits/sec", "Mbits/sec", "Gbits/sec", "Tbits/sec"};
  int u = 0;
  while (bps >= 1000.0 && u < 4) {
    bps /= 1000.0;
    ++u;
  }
  return three_digits(bps, units[u]);
}

nlohmann::json start_json(const StartInfo& info) {
  nlohmann::json j;
  nlohmann::json connected = nlohmann::json::array();
  for (const auto& c : info.connected) {
    connected.push_back({{"socket", c.socket},
                         {"local_host", c.local_host},
                         {"local_port", c.local_port},
                         {"remote_host", c.remote_host},
                         {"remote_port", c.remote_port}});
  }
  j["connected"] = std::move(connected);
  j["version"] = info.version;
  j["system_info"] = info.system_info;
  const std::time_t now = std::time(nullptr);
  char when[64];
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  j["timestamp"] = {{"time", when}, {"timesecs", static_cast<std::int64_t>(now)}};
  if (info.server) {
    j["accepted_connection"] = {{"host", info.host}, {"port", info.port}};
  } else {
    j["connecting_to"] = {{"host", info.host}, {"port", info.port}};
  }
  j["cookie"] = info.cookie.substr(0, info.cookie.find('\0'));
  j["tcp_mss_default"] = info.tcp_mss_default;
  j["target_bitrate"] = info.params.bandwidth;
  j["sock_bufsize"] = info.params.window;
  j["sndbuf_actual"] = info.sndbuf_actual;
  j["rcvbuf_actual"] = info.rcvbuf_actual;
  const TestParameters& p = info.params;
  j["test_start"] = {{"protocol", p.protocol == Protocol::kTcp ? "TCP" : "UDP"},
                     {"num_streams", p.parallel},
                     {"blksize", info.block_size},
                     {"omit", p.omit},
                     {"duration", p.time},
                     {"bytes", p.num},
                     {"blocks", p.blockcount},
                     {"reverse", p.reverse ? 1 : 0},
                     {"tos", p.tos},
                     {"target_bitrate", p.bandwidth}};
  if (!p.congestion.empty()) j["test_start"]["congestion"] = p.congestion;
  return j;
}

nlohmann::json interval_json(const Interval& interval, Protocol protocol) {
  nlohmann::json streams = nlohmann::json::array();
  StreamSample sum;
  double jitter_sum = 0;
  bool any_tcp_info = false;
  for (const StreamSample& s : interval) {
    nlohmann::json j = base_entry(s.socket, s.start, s.end, s.seconds(), s.bytes);
    if (protocol == Protocol::kTcp && s.sender && s.tcp_info) {
      any_tcp_info = true;
      j["retransmits"] = s.retransmits;
      j["snd_cwnd"] = s.snd_cwnd;
      j["snd_wnd"] = s.snd_wnd;
      j["rtt"] = s.rtt;
      j["rttvar"] = s.rttvar;
      j["pmtu"] = s.pmtu;
      j["delivery_rate"] = s.delivery_rate;  // not iperf3's: TCP_INFO's, in bits/s
    } else if (protocol == Protocol::kUdp && s.sender) {
      j["packets"] = s.packets;
    } else if (protocol == Protocol::kUdp) {
      add_udp_receiver(j, s.jitter, s.lost, s.packets);
      j["out_of_order"] = s.out_of_order;
    }
    j["omitted"] = s.omitted;
    j["sender"] = s.sender;
    streams.push_back(std::move(j));
    sum.bytes += s.bytes;
    sum.retransmits += s.retransmits;
    sum.packets += s.packets;
    sum.lost += s.lost;
    sum.out_of_order += s.out_of_order;
    jitter_sum += s.jitter;
    sum.start = s.start;
    sum.end = s.end;
    sum.sender = s.sender;
    sum.omitted = s.omitted;
  }
  nlohmann::json j = base_entry(-1, sum.start, sum.end, sum.seconds(), sum.bytes);
  if (any_tcp_info) j["retransmits"] = sum.retransmits;
  if (protocol == Protocol::kUdp && sum.sender) j["packets"] = sum.packets;
  if (protocol == Protocol::kUdp && !sum.sender && !interval.empty()) {
    add_udp_receiver(j, jitter_sum / static_cast<double>(interval.size()), sum.lost, sum.packets);
  }
  j["omitted"] = sum.omitted;
  j["sender"] = sum.sender;
  return {{"streams", std::move(streams)}, {"sum", std::move(j)}};
}

nlohmann::json end_json(const std::vector<StreamEnd>& streams, Protocol protocol, bool we_send,
                        const TestResults& local, const TestResults& remote) {
  nlohmann::json out;
  nlohmann::json list = nlohmann::json::array();
  std::uint64_t sent = 0, received = 0, packets_sent = 0;
  std::int64_t retransmits = 0, lost = 0;
  double jitter_sum = 0, sent_seconds = 0, received_seconds = 0;
  for (const StreamEnd& e : streams) {
    const StreamSample& l = e.local;
    const double remote_seconds = e.remote.end_time - e.remote.start_time;
    // The sender's view and the receiver's: ours, and the peer's from its results.
    const std::uint64_t s_bytes = we_send ? l.bytes : e.remote.bytes;
    const std::uint64_t r_bytes = we_send ? e.remote.bytes : l.bytes;
    const double s_seconds = we_send ? l.seconds() : remote_seconds;
    const double r_seconds = we_send ? remote_seconds : l.seconds();
    sent += s_bytes;
    received += r_bytes;
    sent_seconds = std::max(sent_seconds, s_seconds);
    received_seconds = std::max(received_seconds, r_seconds);
    if (protocol == Protocol::kTcp) {
      nlohmann::json s = base_entry(l.socket, 0, s_seconds, s_seconds, s_bytes);
      if (we_send && l.tcp_info) {
        s["retransmits"] = l.retransmits;
        s["max_snd_cwnd"] = e.tcp.max_snd_cwnd;
        s["max_snd_wnd"] = e.tcp.max_snd_wnd;
        s["max_rtt"] = e.tcp.max_rtt;
        s["min_rtt"] = e.tcp.min_rtt;
        s["mean_rtt"] = e.tcp.rtt_samples ? e.tcp.rtt_sum / e.tcp.rtt_samples : 0;
        retransmits += l.retransmits;
      } else if (!we_send && e.remote.retransmits >= 0) {
        s["retransmits"] = e.remote.retransmits;
        retransmits += e.remote.retransmits;
      }
      s["sender"] = we_send;
      nlohmann::json r = base_entry(l.socket, 0, r_seconds, r_seconds, r_bytes);
      r["sender"] = we_send;
      list.push_back({{"sender", std::move(s)}, {"receiver", std::move(r)}});
    } else {
      // UDP: the receiver's counts (jitter, loss) beside the sender's bytes and datagrams.
      const std::uint64_t p_sent =
          we_send ? l.packets : static_cast<std::uint64_t>(e.remote.packets);
      const std::int64_t p_lost = we_send ? e.remote.errors : l.lost;
      const double jitter = we_send ? e.remote.jitter : l.jitter;
      packets_sent += p_sent;
      lost += p_lost;
      jitter_sum += jitter;
      nlohmann::json u = base_entry(l.socket, 0, s_seconds, s_seconds, s_bytes);
      add_udp_receiver(u, jitter, p_lost, p_sent);
      u["out_of_order"] = we_send ? 0 : l.out_of_order;
      u["sender"] = we_send;
      list.push_back({{"udp", std::move(u)}});
    }
  }
  out["streams"] = std::move(list);
  const double jitter = streams.empty() ? 0 : jitter_sum / static_cast<double>(streams.size());
  nlohmann::json sum_sent = base_entry(-1, 0, sent_seconds, sent_seconds, sent);
  nlohmann::json sum_received = base_entry(-1, 0, received_seconds, received_seconds, received);
  if (protocol == Protocol::kTcp) {
    if (we_send || retransmits > 0) sum_sent["retransmits"] = retransmits;
  } else {
    nlohmann::json sum = base_entry(-1, 0, sent_seconds, sent_seconds, sent);
    add_udp_receiver(sum, jitter, lost, packets_sent);
    sum["sender"] = we_send;
    out["sum"] = std::move(sum);
    add_udp_receiver(sum_sent, 0, 0, packets_sent);
    add_udp_receiver(sum_received, jitter, lost, packets_sent);
  }
  sum_sent["sender"] = true;
  sum_received["sender"] = false;
  out["sum_sent"] = std::move(sum_sent);
  out["sum_received"] = std::move(sum_received);
  out["cpu_utilization_percent"] = {
      {"host_total", local.cpu_util_total},   {"host_user", local.cpu_util_user},
      {"host_system", local.cpu_util_system}, {"remote_total", remote.cpu_util_total},
      {"remote_user", remote.cpu_util_user},  {"remote_system", remote.cpu_util_system}};
  if (protocol == Protocol::kTcp) {
    const std::string& ours = local.congestion_used;
    const std::string& theirs = remote.congestion_used;
    if (!(we_send ? ours : theirs).empty()) out["sender_tcp_congestion"] = we_send ? ours : theirs;
    if (!(we_send ? theirs : ours).empty())
      out["receiver_tcp_congestion"] = we_send ? theirs : ours;
  }
  return out;
}

std::string interval_header(Protocol protocol, bool sender) {
  if (protocol == Protocol::kUdp) {
    return sender ? "[ ID] Interval           Transfer     Bitrate         Total Datagrams\n"
                  : "[ ID] Interval           Transfer     Bitrate         Jitter    "
                    "Lost/Total Datagrams  Reordered\n";
  }
  return sender ? "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd        RTT\n"
                : "[ ID] Interval           Transfer     Bitrate\n";
}

namespace {

std::string sample_line(const StreamSample& s, Protocol protocol, const std::string& id) {
  std::string line = id + " " + time_text(s.start, s.end) + "  " +
                     format_bytes(static_cast<double>(s.bytes)) + "  " +
                     format_bits(s.bits_per_second());
  char buf[128];
  if (protocol == Protocol::kTcp && s.sender && s.tcp_info) {
    std::snprintf(buf, sizeof buf, "  %4lld   %s  %5.2f ms", static_cast<long long>(s.retransmits),
                  format_bytes(static_cast<double>(s.snd_cwnd)).c_str(), s.rtt / 1000.0);
    line += buf;
  } else if (protocol == Protocol::kUdp && s.sender) {
    std::snprintf(buf, sizeof buf, "  %llu", static_cast<unsigned long long>(s.packets));
    line += buf;
  } else if (protocol == Protocol::kUdp) {
    std::snprintf(buf, sizeof buf, "  %6.3f ms  %lld/%llu (%.2g%%)  %llu", s.jitter * 1000.0,
                  static_cast<long long>(s.lost), static_cast<unsigned long long>(s.packets),
                  lost_percent(s.lost, s.packets), static_cast<unsigned long long>(s.out_of_order));
    line += buf;
  }
  if (s.omitted) line += "  (omitted)";
  return line + "\n";
}

}  // namespace

std::string interval_text(const Interval& interval, Protocol protocol) {
  std::string out;
  StreamSample sum;
  for (const StreamSample& s : interval) {
    out += sample_line(s, protocol, id_text(s.socket));
    sum.start = s.start;
    sum.end = s.end;
    sum.sender = s.sender;
    sum.bytes += s.bytes;
    sum.packets += s.packets;
    sum.lost += s.lost;
    sum.out_of_order += s.out_of_order;
    sum.retransmits += s.retransmits;
    sum.jitter += s.jitter / static_cast<double>(interval.size());  // the mean, as iperf3
  }
  if (interval.size() > 1) {
    sum.tcp_info = false;
    std::string line = sample_line(sum, protocol, "[SUM]");
    if (protocol == Protocol::kTcp && sum.sender) {
      line.pop_back();
      line += "  " + std::to_string(sum.retransmits) + "\n";
    }
    out += line;
  }
  return out;
}

std::string end_text(const std::vector<StreamEnd>& streams, Protocol protocol, bool we_send) {
  std::string out = "- - - - - - - - - - - - - - - - - - - - - - - - -\n";
  out += interval_header(protocol, false);
  std::uint64_t sent = 0, received = 0;
  double seconds = 0;
  for (const StreamEnd& e : streams) {
    const double remote_seconds = e.remote.end_time - e.remote.start_time;
    const std::uint64_t s_bytes = we_send ? e.local.bytes : e.remote.bytes;
    const std::uint64_t r_bytes = we_send ? e.remote.bytes : e.local.bytes;
    const double s_sec = we_send ? e.local.seconds() : remote_seconds;
    const double r_sec = we_send ? remote_seconds : e.local.seconds();
    seconds = std::max({seconds, s_sec, r_sec});
    sent += s_bytes;
    received += r_bytes;
    const std::string id = id_text(e.local.socket);
    std::string line = id + " " + time_text(0, s_sec) + "  " +
                       format_bytes(static_cast<double>(s_bytes)) + "  " +
                       format_bits(s_sec > 0 ? static_cast<double>(s_bytes) * 8 / s_sec : 0);
    const std::int64_t retr = we_send ? e.local.retransmits : e.remote.retransmits;
    if (protocol == Protocol::kTcp && retr >= 0) line += "  " + std::to_string(retr) + " retr";
    out += line + "  sender\n";
    line = id + " " + time_text(0, r_sec) + "  " + format_bytes(static_cast<double>(r_bytes)) +
           "  " + format_bits(r_sec > 0 ? static_cast<double>(r_bytes) * 8 / r_sec : 0);
    if (protocol == Protocol::kUdp) {
      const std::int64_t lost = we_send ? e.remote.errors : e.local.lost;
      const std::uint64_t packets =
          we_send ? e.local.packets : static_cast<std::uint64_t>(e.remote.packets);
      const double jitter = we_send ? e.remote.jitter : e.local.jitter;
      char buf[96];
      std::snprintf(buf, sizeof buf, "  %6.3f ms  %lld/%llu (%.2g%%)", jitter * 1000.0,
                    static_cast<long long>(lost), static_cast<unsigned long long>(packets),
                    lost_percent(lost, packets));
      line += buf;
    }
    out += line + "  receiver\n";
  }
  if (streams.size() > 1) {
    out += "[SUM] " + time_text(0, seconds) + "  " + format_bytes(static_cast<double>(sent)) +
           "  sender\n";
    out += "[SUM] " + time_text(0, seconds) + "  " + format_bytes(static_cast<double>(received)) +
           "  receiver\n";
  }
  return out;
}

}  // namespace duplex::apps::perf
