#include "duplex/apps/scan/report.h"

#include <array>
#include <cstdio>

#include "duplex/apps/scan/banner.h"

namespace duplex::scan {
namespace {

std::string_view protocol_name(Protocol p) { return p == Protocol::tcp ? "tcp" : "udp"; }

// Open ports always; open|filtered too for UDP, where it is the best a scan can say.
bool shown(PortState s, ReportOptions o) {
  return o.all || s == PortState::open || s == PortState::open_filtered;
}

std::string ms(std::chrono::microseconds us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(us.count()) / 1000.0);
  return buf;
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

std::string host_line(const HostResult& r) {
  const std::string address = r.target.address.to_string();
  return r.target.name.empty() ? address : r.target.name + " (" + address + ")";
}

}  // namespace

std::string text_report(const HostResult& r, const Services& services, ReportOptions o) {
  std::string out = "scan report for " + host_line(r) + "\n";
  if (r.rtt.measured()) {
    out += "rtt " + ms(r.rtt.srtt()) + " ms (+- " + ms(r.rtt.rttvar()) + ")\n";
  } else {
    out += "no answer measured (every probe timed out or failed)\n";
  }
  std::string hidden;
  for (std::size_t s = 0; s < kPortStates; ++s) {
    const auto state = static_cast<PortState>(s);
    if (shown(state, o)) continue;
    if (const std::size_t n = r.count(state)) {
      hidden +=
          (hidden.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(to_string(state));
    }
  }
  const auto order = r.by_port();
  std::vector<std::array<std::string, 4>> rows;
  bool banners = false;
  for (std::size_t i : order) {
    const PortOutcome& p = r.outcomes[i];
    if (!shown(p.state, o)) continue;
    std::string banner = r.banners.empty() ? "" : escape_banner(r.banners[i]);
    banners = banners || !banner.empty();
    rows.push_back({std::to_string(r.ports[i]) + "/" + std::string(protocol_name(r.protocol)),
                    std::string(to_string(p.state)),
                    std::string(services.name(r.ports[i], r.protocol)), std::move(banner)});
  }
  if (rows.empty()) {
    out += "no " + std::string(o.all ? "" : "open ") + "ports among " +
           std::to_string(r.ports.size()) + (hidden.empty() ? "" : " (" + hidden + ")") + "\n";
    return out;
  }
  if (!hidden.empty()) out += "Not shown: " + hidden + "\n";
  std::array<std::size_t, 3> width{4, 5, 7};  // PORT STATE SERVICE
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < 3; ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::array<std::string, 4>& row) {
    std::string l = pad(row[0], width[0] + 2) + pad(row[1], width[1] + 2);
    l += banners ? pad(row[2], width[2] + 2) + row[3] : row[2];
    while (!l.empty() && l.back() == ' ') l.pop_back();
    return l + "\n";
  };
  out += line({"PORT", "STATE", "SERVICE", "BANNER"});
  for (const auto& row : rows) out += line(row);
  return out;
}

nlohmann::json json_report(const HostResult& r, const Services& services, ReportOptions o) {
  nlohmann::json j;
  j["host"] = r.target.address.to_string();
  if (!r.target.name.empty()) j["name"] = r.target.name;
  j["protocol"] = protocol_name(r.protocol);
  j["scanned"] = r.ports.size();
  nlohmann::json counts = nlohmann::json::object();
  for (std::size_t s = 0; s < kPortStates; ++s) {
    const auto state = static_cast<PortState>(s);
    counts[std::string(to_string(state))] = r.count(state);
  }
  j["counts"] = counts;
  if (r.rtt.measured()) {
    j["srtt_ms"] = static_cast<double>(r.rtt.srtt().count()) / 1000.0;
    j["rttvar_ms"] = static_cast<double>(r.rtt.rttvar().count()) / 1000.0;
  }
  nlohmann::json ports = nlohmann::json::array();
  for (std::size_t i : r.by_port()) {
    const PortOutcome& p = r.outcomes[i];
    if (!shown(p.state, o)) continue;
    nlohmann::json port = {{"port", r.ports[i]},
                           {"state", to_string(p.state)},
                           {"reason", to_string(p.reason)},
                           {"service", services.name(r.ports[i], r.protocol)}};
    if (!r.banners.empty() && !r.banners[i].empty()) {
      port["banner"] = escape_banner(r.banners[i], 512);
    }
    ports.push_back(std::move(port));
  }
  j["ports"] = std::move(ports);
  return j;
}

std::string grepable_report(const HostResult& r, const Services& services) {
  std::array<std::size_t, kPortStates> counts{};
  for (const auto& p : r.outcomes) ++counts[static_cast<std::size_t>(p.state)];
  std::size_t ignored = kPortStates;  // none
  for (std::size_t s = 0; s < kPortStates; ++s) {
    if (static_cast<PortState>(s) == PortState::open || counts[s] == 0) continue;
    if (ignored == kPortStates || counts[s] > counts[ignored]) ignored = s;
  }
  std::string out = "Host: " + r.target.address.to_string() + " (" + r.target.name + ")\tPorts: ";
  bool first = true;
  for (std::size_t i : r.by_port()) {
    const auto s = static_cast<std::size_t>(r.outcomes[i].state);
    if (s == ignored) continue;
    out += (first ? "" : ", ") + std::to_string(r.ports[i]) + "/" +
           std::string(to_string(r.outcomes[i].state)) + "/" +
           std::string(protocol_name(r.protocol)) + "//" +
           std::string(services.name(r.ports[i], r.protocol)) + "///";
    first = false;
  }
  if (ignored != kPortStates) {
    out += "\tIgnored State: " + std::string(to_string(static_cast<PortState>(ignored))) + " (" +
           std::to_string(counts[ignored]) + ")";
  }
  return out + "\n";
}

}  // namespace duplex::scan
