#include "duplex/apps/capture/line_output.h"

#include <net/if.h>

#include <ctime>
#include <string_view>

#include "duplex/apps/capture/conversation.h"
#include "duplex/apps/capture/text.h"

namespace duplex::capture {
namespace {

void append_problem(std::string& out, const dissect::Problem& problem) {
  out += " [";
  out += dissect::to_string(problem);
  out += ']';
}

// What tcpdump prints after the addresses for a protocol it has no printer for.
void append_ip_protocol(std::string& out, const DecodedPacket& p) {
  out += " ip-proto-";
  append_number(out, p.ip_protocol);
  out += ' ';
  append_number(out, p.ip_payload_length);
}

void append_endpoint(std::string& out, const inet::Address& address, std::uint16_t port,
                     bool with_port) {
  out += address.to_string();
  if (!with_port) return;
  out += '.';
  append_number(out, port);
}

// ": WebSocket Text [FIN] [MASKED], WebSocket Ping [FIN]" (tshark's Info words per frame).
void append_websocket(std::string& out, const DecodedPacket& p) {
  out += ": ";
  if (p.websocket_unknown) {
    out += "WebSocket data at no known frame start";
    return;
  }
  if (p.websocket_carried != 0) {
    out += "WebSocket continued payload, ";
    append_number(out, p.websocket_carried);
    out += " bytes";
    if (p.websocket_count != 0) out += ", ";
  }
  for (std::uint8_t i = 0; i < p.websocket_count; ++i) {
    if (i != 0) out += ", ";
    const auto& f = p.websocket[i];
    out += websocket::summary(f);
    if (f.header_length == 0 && f.continues) out += " [header split across segments]";
  }
  if (p.websocket_more) out += ", ...";
}

}  // namespace

void TcpSequences::make_relative(transport::TcpHeader& tcp, const Directed& d) {
  // tcpdump's rule: a segment with ACK of a conversation not seen yet (or a SYN-ACK) sets
  // both directions' bases and is shown as it is; later ones are shown from those bases.
  if (!tcp.has(transport::kTcpAck)) return;
  auto it = bases_.find(d.key);
  if (it == bases_.end() || tcp.has(transport::kTcpSyn)) {
    if (bases_.size() >= kMaxConversations) bases_.clear();  // memory stays bounded
    Base b;
    if (d.reversed) {
      b.second = tcp.sequence;
      b.first = tcp.acknowledgment - 1;
    } else {
      b.first = tcp.sequence;
      b.second = tcp.acknowledgment - 1;
    }
    bases_[d.key] = b;
    return;
  }
  const Base& b = it->second;
  tcp.sequence -= d.reversed ? b.second : b.first;
  tcp.acknowledgment -= d.reversed ? b.first : b.second;
}

void LineFormatter::append_transport(std::string& out, const DecodedPacket& p,
                                     std::span<const std::uint8_t> bytes) {
  if (const auto* l = p.find(Protocol::icmp)) {
    if (p.icmp.header_length == 0) {  // too short to name: the problem says why
      out += "ICMP";
      return;
    }
    out += "ICMP ";
    out += inet::summary(p.icmp, l->in(bytes), p.ip_payload_length);
    return;
  }
  if (const auto* l = p.find(Protocol::icmpv6)) {
    out += inet::summary(p.icmpv6, l->in(bytes));
    return;
  }
  const auto* dns = p.find(Protocol::dns);
  const auto* http = p.find(Protocol::http);
  const auto* tls = p.find(Protocol::tls);
  if (const auto* l = p.find(Protocol::tcp)) {
    transport::TcpHeader shown = p.tcp;
    sequences_.make_relative(shown, conversation_of(p));
    out += transport::summary(shown, l->in(bytes));
    if (dns != nullptr) {
      out += ": ";
      out += dns::summary(p.dns, dns->in(bytes));
    } else if (http != nullptr) {
      out += ": ";
      out += http::summary(p.http, http->in(bytes));
    } else if (tls != nullptr) {
      out += ": ";
      out += tls::summary(p.tls, tls->in(bytes));
    } else if (p.has(Protocol::websocket)) {
      append_websocket(out, p);
    }
    return;
  }
  if (p.has(Protocol::udp)) {
    if (dns != nullptr)
      out += dns::summary(p.dns, dns->in(bytes));
    else
      out += transport::summary(p.udp);
    return;
  }
  append_ip_protocol(out, p);
}

void LineFormatter::append_ip(std::string& out, const DecodedPacket& p,
                              std::span<const std::uint8_t> bytes) {
  const bool v4 = p.has(Protocol::ipv4);
  out += v4 ? "IP " : "IP6 ";
  if (p.problem_in == Protocol::ipv4 || p.problem_in == Protocol::ipv6) {
    out.pop_back();
    append_problem(out, p.problem);
    return;
  }
  // Ports as tcpdump prints them: once the transport header's first 4 bytes were captured.
  const LayerSpan* l4 = p.find(Protocol::tcp);
  if (l4 == nullptr) l4 = p.find(Protocol::udp);
  const bool ports = l4 != nullptr && l4->available >= 4;
  const std::uint16_t sport = p.has(Protocol::tcp) ? p.tcp.source_port : p.udp.source_port;
  const std::uint16_t dport =
      p.has(Protocol::tcp) ? p.tcp.destination_port : p.udp.destination_port;
  append_endpoint(out, *p.source(), sport, ports);
  out += " > ";
  append_endpoint(out, *p.destination(), dport, ports);
  out += ':';
  if (p.later_fragment) {
    if (v4) {
      // tcpdump: a later fragment names its protocol only, having no transport header.
      out += " ip-proto-";
      append_number(out, p.ip_protocol);
      return;
    }
    out += " frag (";
    append_number(out, p.ipv6.fragment_offset * 8u);
    out += '|';
    append_number(out, p.ip_payload_length);
    out += ')';
    return;
  }
  out += ' ';
  if (!v4 && p.ipv6.is_fragment()) {
    out += "frag (0|";  // tcpdump names the first fragment before its payload
    append_number(out, p.ip_payload_length);
    out += ") ";
  }
  append_transport(out, p, bytes);
}

namespace {

// tcpdump's direction word for a Linux cooked header, padded to four characters.
std::string_view direction(std::uint16_t packet_type) noexcept {
  switch (packet_type) {
    case link::CookedHeader::host:
      return "In  ";
    case link::CookedHeader::broadcast:
      return "B   ";
    case link::CookedHeader::multicast:
      return "M   ";
    case link::CookedHeader::other_host:
      return "P   ";
    case link::CookedHeader::outgoing:
      return "Out ";
    default:
      return "??? ";
  }
}

}  // namespace

void LineFormatter::append_time(std::string& out, Timestamp time) {
  if (time.seconds != cached_second_) {
    const std::time_t t = static_cast<std::time_t>(time.seconds);
    std::tm tm{};
    localtime_r(&t, &tm);
    const int parts[3] = {tm.tm_hour, tm.tm_min, tm.tm_sec};
    for (int i = 0; i < 3; ++i) {
      cached_clock_[3 * i] = static_cast<char>('0' + parts[i] / 10 % 10);
      cached_clock_[3 * i + 1] = static_cast<char>('0' + parts[i] % 10);
      if (i < 2) cached_clock_[3 * i + 2] = ':';
    }
    cached_second_ = time.seconds;
  }
  out.append(cached_clock_, 8);
  char micro[7];
  std::uint32_t us = time.microseconds % 1000000u;
  micro[0] = '.';
  for (int i = 6; i >= 1; --i) {
    micro[i] = static_cast<char>('0' + us % 10);
    us /= 10;
  }
  out.append(micro, 7);
}

void LineFormatter::append_interface(std::string& out, std::uint32_t index) {
  // tcpdump names the interface of an SLL2 packet as this host knows the index.
  if (index != cached_index_ || cached_name_.empty()) {
    char name[IF_NAMESIZE] = {};
    cached_name_ = if_indextoname(index, name) != nullptr ? name : std::to_string(index);
    cached_index_ = index;
  }
  out += cached_name_;
  if (cached_name_.size() < 5) out.append(5 - cached_name_.size(), ' ');
  out += ' ';
}

void LineFormatter::append_summary(std::string& out, const DecodedPacket& p,
                                   std::span<const std::uint8_t> bytes) {
  if (p.unsupported_link) {
    out += "link type ";
    append_number(out, static_cast<std::uint64_t>(p.link_type));
    out += " is not decoded, length ";
    append_number(out, p.length);
    return;
  }
  if (p.layer_count == 0) {
    out += "[empty packet]";
    return;
  }
  const LayerSpan& first = p.layers[0];
  switch (first.protocol) {
    case Protocol::ethernet:
      if (p.problem_in == Protocol::ethernet) {
        out += "Ethernet";
        append_problem(out, p.problem);
        return;
      }
      break;
    case Protocol::linux_sll:
    case Protocol::linux_sll2:
      if (p.problem_in == first.protocol) {
        out += "Linux cooked";
        append_problem(out, p.problem);
        return;
      }
      if (first.protocol == Protocol::linux_sll2) {
        append_interface(out, p.cooked.interface_index);
        out += direction(p.cooked.packet_type);
      }
      break;
    case Protocol::loopback:
      if (p.problem_in == Protocol::loopback) {
        out += "Loopback";
        append_problem(out, p.problem);
        return;
      }
      break;
    default:
      break;
  }
  const LayerSpan* second =
      p.layers[0].protocol == Protocol::ipv4 || p.layers[0].protocol == Protocol::ipv6
          ? &p.layers[0]
          : (p.layer_count > 1 ? &p.layers[1] : nullptr);
  if (second == nullptr) {
    // A link header with nothing the chain knows after it: the link's own summary.
    if (first.protocol == Protocol::ethernet)
      out += link::summary(p.ethernet, p.length);
    else if (first.protocol == Protocol::loopback)
      out += "loopback family " + std::to_string(p.loopback_family) + ", length " +
             std::to_string(p.length);
    else
      out += link::summary(p.cooked, p.length);
    return;
  }
  switch (second->protocol) {
    case Protocol::arp:
      out += "ARP, ";
      out += link::summary(p.arp, p.length - second->offset);
      if (p.problem_in == Protocol::arp) append_problem(out, p.problem);
      return;
    case Protocol::ipv4:
    case Protocol::ipv6:
      append_ip(out, p, bytes);
      break;
    default:
      break;
  }
  if (p.problem && p.problem_in != Protocol::ipv4 && p.problem_in != Protocol::ipv6)
    append_problem(out, p.problem);
}

std::string LineFormatter::line(Timestamp time, const DecodedPacket& packet,
                                std::span<const std::uint8_t> bytes) {
  std::string s;
  append_time(s, time);
  s += ' ';
  append_summary(s, packet, bytes);
  s += '\n';
  return s;
}

}  // namespace duplex::capture
