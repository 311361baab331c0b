// Public. How `duplex scan` prints a host's result: nmap's table, one JSON object, or one
// line of nmap's grepable format (-oG).
//
// Pure formatting of values: safe to call from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "duplex/apps/scan/scan_result.h"
#include "duplex/apps/scan/services.h"

namespace duplex::scan {

struct ReportOptions {
  bool all = false;  // every port, not only the open ones (and open|filtered for UDP)
};

// "scan report for NAME (ADDRESS)", the RTT, "Not shown: 998 closed, 1 filtered" and the
// PORT STATE SERVICE [BANNER] table, each line ending in '\n'.
std::string text_report(const HostResult& r, const Services& services, ReportOptions o = {});

// {"host", "name", "protocol", "scanned", "counts": {state: n}, "srtt_ms", "rttvar_ms",
//  "ports": [{"port", "state", "reason", "service", "banner"?}]}: the ports shown in the text.
nlohmann::json json_report(const HostResult& r, const Services& services, ReportOptions o = {});

// nmap -oG's line: "Host: ADDR (NAME)\tPorts: 22/open/tcp//ssh///, ...\tIgnored State:
// closed (998)". The most common state that is not open is left out and counted, as nmap
// does; every other port is listed.
std::string grepable_report(const HostResult& r, const Services& services);

}  // namespace duplex::scan
