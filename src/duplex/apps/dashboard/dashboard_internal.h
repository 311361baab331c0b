// Internal to apps/dashboard/*.cc. The parts of `duplex serve`'s JSON API that do more
// than translate: the Connections table's link-layer view of each peer, whether this
// process may change the neighbour table or capture, and the query string as a form sends
// it. Any thread (they read the kernel's tables).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/apps/dashboard/dashboard.h"
#include "duplex/base/strings.h"
#include "duplex/proto/http_json.h"
#include "duplex/proto/http_router.h"

namespace duplex::apps::dashboard {

// {"count": N, "connections": [...]}, each snapshot with the peer's MAC, vendor and the
// subnet AND of docs/api.md.
nlohmann::json connections_json(const std::vector<ConnectionSnapshot>& snapshots);

// Whether the effective capability set holds capability `bit` (linux/capability.h), read
// from /proc/self/status.
bool has_capability(unsigned bit);
inline bool has_cap_net_admin() { return has_capability(12); }  // CAP_NET_ADMIN
inline bool has_cap_net_raw() { return has_capability(13); }    // CAP_NET_RAW

// For the routes that want the token on loopback too (capture, perf, scan): false when
// `has_token` (empty: nobody has it) accepts the request; otherwise true, with a 401 in
// `res` that begins with `what` ("scans need") and says how to give the token, then `also`.
bool refuse_without_token(const std::function<bool(const http::Request&)>& has_token,
                          const http::Request& req, http::Response& res, std::string_view what,
                          std::string_view also = "");

// The query's name=value pairs, decoded as a form does it ('+' is a space, as
// URLSearchParams writes it). An empty value counts as absent.
class Query {
 public:
  // False (and a 400 in `res`) on a malformed escape.
  bool parse(const http::Request& req, http::Response& res) {
    std::string_view rest = req.query;
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const auto item = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (item.empty()) continue;
      const auto eq = item.find('=');
      std::string name, value;
      if (!decode(item.substr(0, eq), name) ||
          !decode(eq == std::string_view::npos ? "" : item.substr(eq + 1), value)) {
        http::send_json_error(res, 400,
                              "malformed %-escape in the query parameter " +
                                  quote(item.substr(0, eq)) +
                                  ": write % as %25 and bytes as %XX (two hex digits)");
        return false;
      }
      if (!value.empty()) items_.emplace_back(std::move(name), std::move(value));
    }
    return true;
  }
  std::optional<std::string> get(std::string_view name) const {
    for (const auto& [k, v] : items_)
      if (k == name) return v;
    return std::nullopt;
  }
  bool has(std::string_view name) const { return get(name).has_value(); }

 private:
  static bool decode(std::string_view in, std::string& out) {
    std::string spaced(in);
    for (char& c : spaced)
      if (c == '+') c = ' ';
    return http::percent_decode(spaced, out);
  }

  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace duplex::apps::dashboard
