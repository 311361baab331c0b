// Part of apps/dashboard/scan_ws.h: the Hosts page's request, parsed and bounded, and the
// form's default target. Pure computation on values (no socket, no name resolution), so
// that the fuzz target (tests/fuzz/scan_request_fuzz.cc) builds it alone.
#include "duplex/apps/dashboard/scan_ws.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "duplex/apps/scan/ports.h"
#include "duplex/base/error.h"

namespace duplex::apps {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxField = 256;  // characters of "targets" or "ports"

// The words of a target list: separated by spaces or commas.
std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != ',' && text[j] != '\t') ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// "top 100", "top100", "--top 100": the n most common TCP ports.
std::optional<std::size_t> top_count(std::string_view text, bool& is_top) {
  is_top = false;
  if (text.rfind("--", 0) == 0) text.remove_prefix(2);
  if (text.rfind("top", 0) != 0) return std::nullopt;
  is_top = true;
  text.remove_prefix(3);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0) return std::nullopt;
  return n;
}

}  // namespace

std::optional<ScanRequest> parse_scan_request(std::string_view json,
                                              const std::vector<inet::Prefix>& local,
                                              const ScanWsOptions& options, std::string& cause,
                                              std::string& why) {
  cause = "request";
  const Json j = Json::parse(json, nullptr, false);
  if (!j.is_object() || !j.contains("targets") || !j["targets"].is_string() ||
      (j.contains("ports") && !j["ports"].is_string())) {
    why = R"(send one JSON object: {"targets":"192.168.1.0/24","ports":"top 100"} (ports: )"
          R"("22,80,443", "1-1024" or "top N"))";
    return std::nullopt;
  }
  ScanRequest r;
  r.targets_text = j["targets"].get<std::string>();
  r.ports_text = j.contains("ports") ? j["ports"].get<std::string>() : "top 100";
  if (r.targets_text.size() > kMaxField || r.ports_text.size() > kMaxField) {
    why = "targets and ports must each be at most " + std::to_string(kMaxField) + " characters";
    return std::nullopt;
  }
  const auto list = words(r.targets_text);
  if (list.empty()) {
    why = "no targets: give an address, a prefix or a range, e.g. 192.168.1.0/24";
    return std::nullopt;
  }
  std::vector<scan::TargetSpec> specs;
  std::uint64_t count = 0;
  try {
    for (const auto word : list) {
      specs.push_back(scan::parse_target(word));
      if (specs.back().kind == scan::TargetSpec::Kind::name) {
        why = "'" + std::string(word) +
              "' is a name: give addresses (the dashboard resolves no names)";
        return std::nullopt;
      }
      const auto n = specs.back().count();
      count = n > options.max_addresses ? n : count + n;
      if (count > options.max_addresses) {
        cause = "bounds";
        why = std::string(r.targets_text) + " holds more than " +
              std::to_string(options.max_addresses) +
              " addresses, the most the dashboard scans: take a /22 or smaller";
        return std::nullopt;
      }
    }
  } catch (const ParseError& e) {
    why = e.what();
    return std::nullopt;
  }
  r.targets = scan::expand_targets(specs, options.max_addresses);
  for (const auto& t : r.targets) {
    if (!scan::is_local(t.address, local)) {
      cause = "bounds";
      why = t.address.to_string() +
            " is outside this machine's subnets: the dashboard scans only its own links and "
            "loopback (use duplex scan --yes for more)";
      return std::nullopt;
    }
  }
  try {
    bool is_top = false;
    const auto top = top_count(r.ports_text, is_top);
    if (is_top) {
      const auto most = std::min(options.max_ports, scan::top_ports_available(scan::Protocol::tcp));
      if (!top || *top > most) {
        cause = top ? "bounds" : "request";
        why = "'" + r.ports_text + "': write top N with N from 1 to " + std::to_string(most);
        return std::nullopt;
      }
      r.ports = scan::top_ports(scan::Protocol::tcp, *top);
    } else {
      r.ports = scan::parse_ports(r.ports_text);
    }
  } catch (const ParseError& e) {
    why = e.what();
    return std::nullopt;
  }
  if (r.ports.size() > options.max_ports) {
    cause = "bounds";
    why = "'" + r.ports_text + "' is " + std::to_string(r.ports.size()) +
          " ports; the most the dashboard scans is " + std::to_string(options.max_ports) +
          " (try top 1000)";
    return std::nullopt;
  }
  return r;
}

std::string default_scan_targets(const inet::Address& address,
                                 const std::vector<inet::Prefix>& local,
                                 std::uint64_t max_addresses) {
  const auto a = address.unmapped();
  if (a.is_loopback() || !a.is_v4()) return a.to_string();
  for (const auto& p : local) {
    if (!p.contains(a) || p.length() == 32) continue;
    const unsigned length =
        (std::uint64_t{1} << (32 - p.length())) > max_addresses ? 24 : p.length();
    return inet::Prefix(a, std::max(length, p.length())).masked().to_string();
  }
  return a.to_string();
}

}  // namespace duplex::apps
