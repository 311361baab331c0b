#include "duplex/apps/scan/scan_result.h"

#include <algorithm>
#include <numeric>

namespace duplex::scan {

std::string_view to_string(PortState s) noexcept {
  switch (s) {
    case PortState::open:
      return "open";
    case PortState::closed:
      return "closed";
    case PortState::filtered:
      return "filtered";
    case PortState::open_filtered:
      return "open|filtered";
  }
  return "?";
}

std::string_view to_string(Reason r) noexcept {
  switch (r) {
    case Reason::syn_ack:
      return "syn-ack";
    case Reason::conn_refused:
      return "conn-refused";
    case Reason::no_response:
      return "no-response";
    case Reason::host_unreach:
      return "host-unreach";
    case Reason::net_unreach:
      return "net-unreach";
    case Reason::admin_prohibited:
      return "admin-prohibited";
    case Reason::port_unreach:
      return "port-unreach";
    case Reason::udp_response:
      return "udp-response";
    case Reason::error:
      return "error";
  }
  return "?";
}

std::size_t HostResult::count(PortState s) const noexcept {
  return static_cast<std::size_t>(std::count_if(
      outcomes.begin(), outcomes.end(), [s](const PortOutcome& o) { return o.state == s; }));
}

std::vector<std::size_t> HostResult::by_port() const {
  std::vector<std::size_t> order(ports.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [this](std::size_t a, std::size_t b) { return ports[a] < ports[b]; });
  return order;
}

}  // namespace duplex::scan
