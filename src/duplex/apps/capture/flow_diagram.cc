#include "duplex/apps/capture/flow_diagram.h"

#include <algorithm>
#include <cstdio>

namespace duplex::capture {
namespace {

constexpr std::size_t kMaxLabel = 64;
constexpr std::size_t kTimeWidth = 11;  // "  0.000000 "

std::string tcp_label(const DecodedPacket& p, const TcpSegment& s) {
  const auto& t = p.tcp;
  std::string flags;
  auto flag = [&](std::uint16_t bit, const char* name) {
    if (!t.has(static_cast<transport::TcpFlag>(bit))) return;
    if (!flags.empty()) flags += ", ";
    flags += name;
  };
  flag(transport::kTcpFin, "FIN");
  flag(transport::kTcpSyn, "SYN");
  flag(transport::kTcpRst, "RST");
  flag(transport::kTcpPsh, "PSH");
  flag(transport::kTcpAck, "ACK");
  flag(transport::kTcpUrg, "URG");
  std::string label = s.retransmission ? "[retransmission] " : "";
  label += std::to_string(t.source_port) + "\u2192" + std::to_string(t.destination_port) + " [" +
           flags + "] seq=" + std::to_string(s.relative_seq);
  if (t.has(transport::kTcpAck)) label += " ack=" + std::to_string(s.relative_ack);
  label += " len=" + std::to_string(t.payload_length);
  return label;
}

std::string label_of(const DecodedPacket& p, std::span<const std::uint8_t> bytes,
                     const std::optional<TcpSegment>& segment) {
  if (p.has(Protocol::tcp) && segment) return tcp_label(p, *segment);
  if (const auto* l = p.find(Protocol::dns)) {
    return "DNS " + dns::summary(p.dns, l->in(bytes));
  }
  if (p.has(Protocol::udp) && p.udp.header_length != 0)
    return "UDP " + std::to_string(p.udp.source_port) + "\u2192" +
           std::to_string(p.udp.destination_port) + " len=" + std::to_string(p.udp.payload_length);
  if (p.has(Protocol::icmp) && p.icmp.header_length != 0) {
    const auto name = inet::icmp_type_name(p.icmp.type);
    return "ICMP " + (name.empty() ? "type " + std::to_string(p.icmp.type) : std::string(name));
  }
  if (p.has(Protocol::icmpv6) && p.icmpv6.header_length != 0) {
    const auto name = inet::icmpv6_type_name(p.icmpv6.type);
    return "ICMPv6 " + (name.empty() ? "type " + std::to_string(p.icmpv6.type) : std::string(name));
  }
  const auto* top = p.top();
  return top ? std::string(protocol_name(top->protocol)) : "?";
}

// Places `text` into `line` from column `at`, growing the line as needed.
void put(std::string& line, std::size_t at, std::string_view text) {
  if (line.size() < at + text.size()) line.resize(at + text.size(), ' ');
  line.replace(at, text.size(), text);
}

// Text columns taken by `s` (the arrow "→" is one column, three bytes).
std::size_t columns(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

}  // namespace

std::size_t FlowDiagram::column(const std::string& host) {
  for (std::size_t i = 0; i < hosts_.size(); ++i)
    if (hosts_[i] == host) return i;
  if (hosts_.size() + 1 < kMaxHosts) {
    hosts_.push_back(host);
    return hosts_.size() - 1;
  }
  if (hosts_.size() + 1 == kMaxHosts) hosts_.push_back("other");
  return kMaxHosts - 1;
}

std::optional<FlowStep> FlowDiagram::step(const DecodedPacket& p,
                                          std::span<const std::uint8_t> bytes, Timestamp time) {
  const auto segment = tcp_.add(p, seconds(time));
  FlowStep s;
  if (p.has(Protocol::arp) && !p.arp.problem && p.arp.ipv4_over_ethernet) {
    const auto& f = p.arp.frame;
    s.from = f.sender_ip.to_string();
    s.to = f.target_ip.to_string();
    if (p.arp.opcode == 1)
      s.label = "ARP who-has " + s.to + " (broadcast)";
    else if (p.arp.opcode == 2)
      s.label = "ARP " + s.from + " is-at " + f.sender_mac.to_string();
    else
      s.label = "ARP opcode " + std::to_string(p.arp.opcode);
  } else if (p.source() != nullptr && p.problem_in != Protocol::ipv4 &&
             p.problem_in != Protocol::ipv6) {
    s.from = p.source()->to_string();
    s.to = p.destination()->to_string();
    s.label = label_of(p, bytes, segment);
  } else {
    return std::nullopt;
  }
  if (columns(s.label) > kMaxLabel) {
    // Cut on a character boundary (labels are ASCII but for the arrow).
    std::size_t keep = 0, n = 0;
    while (keep < s.label.size() && n < kMaxLabel - 3) {
      ++keep;
      while (keep < s.label.size() && (static_cast<unsigned char>(s.label[keep]) & 0xc0) == 0x80)
        ++keep;
      ++n;
    }
    s.label = s.label.substr(0, keep) + "...";
  }
  return s;
}

void FlowDiagram::add(const DecodedPacket& p, std::span<const std::uint8_t> bytes, Timestamp time) {
  auto s = step(p, bytes, time);
  if (!s) return;
  if (arrows_.size() >= kMaxArrows) {
    ++left_out_;
    return;
  }
  const double t = seconds(time);
  if (start_ < 0) start_ = t;
  const std::size_t a = column(s->from);
  const std::size_t b = column(s->to);
  arrows_.push_back({t - start_, a, b, std::move(s->label)});
}

std::string FlowDiagram::render() const {
  if (arrows_.empty()) return "(no ARP or IP packets to draw)\n";
  std::size_t widest = 0;
  for (const auto& h : hosts_) widest = std::max(widest, h.size());
  for (const auto& a : arrows_) widest = std::max(widest, columns(a.label));
  const std::size_t width = std::max<std::size_t>(widest + 6, 20);
  auto x = [&](std::size_t col) { return kTimeWidth + col * width; };

  std::string out;
  std::string head = "time (s)";
  for (std::size_t i = 0; i < hosts_.size(); ++i) put(head, x(i), hosts_[i]);
  out += head + '\n';
  std::string rail(kTimeWidth, ' ');
  for (std::size_t i = 0; i < hosts_.size(); ++i) put(rail, x(i), "|");
  out += rail + '\n';
  for (const auto& arrow : arrows_) {
    std::string line = rail;
    char time[32];
    std::snprintf(time, sizeof time, "%10.6f", arrow.time);
    put(line, 0, time);
    const std::size_t lo = std::min(arrow.from, arrow.to);
    const std::size_t hi = std::max(arrow.from, arrow.to);
    if (lo == hi) {  // to itself (loopback): a loop beside the rail
      put(line, x(lo) + 1, "<-> " + arrow.label);
      out += line + '\n';
      continue;
    }
    // The shaft between the two rails, the head at the receiver, the label inside.
    const std::size_t begin = x(lo) + 1, end = x(hi);  // [begin, end)
    std::string shaft(end - begin, '-');
    if (arrow.to > arrow.from)
      shaft.back() = '>';
    else
      shaft.front() = '<';
    line.replace(begin, shaft.size(), shaft);
    // The label replaces as many dashes as it takes columns (the arrow sign is 3 bytes).
    const std::size_t at = begin + 2;
    const std::size_t cols = columns(arrow.label);
    line.replace(at, cols, arrow.label);
    out += line + '\n';
  }
  if (left_out_ != 0)
    out += "(" + std::to_string(left_out_) + " more packets not drawn: at most " +
           std::to_string(kMaxArrows) + ")\n";
  return out;
}

}  // namespace duplex::capture
