// Public. The --json output of `duplex capture`: one JSON object per packet, written as one
// line (JSON Lines), in the shape of notes/capture-cli.md, keys in this order:
//   {"number":1,"time":"2026-12-05T07:00:00.123456Z","length":74,"captured":74,
//    "layers":[{"layer":"link","osi":2,"protocol":"Ethernet II","offset":0,"length":14,
//               "fields":[{"key":"eth.dst","label":"Destination","value":"...",
//                          "offset":0,"length":6}]}]}
// "meaning", "children" and "problem" appear only when not empty. Written by hand rather
// than through a JSON library: it is the hot path of `--json` over a large file. Text that
// is not UTF-8 (a header value off the wire) has each bad byte replaced by U+FFFD.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/apps/capture/line_output.h"
#include "duplex/base/dissect.h"

namespace duplex::capture {

// "2026-12-05T07:00:00.123456Z": the capture time in UTC, to the microsecond.
std::string iso_time(Timestamp time);

// Appends `text` as a JSON string, quotes included.
void append_json_string(std::string& out, std::string_view text);
// Appends one layer's object, as in the "layers" array.
void append_header_json(std::string& out, const dissect::Header& header);
// Appends the packet's object, without a newline; `number` counts from 1.
void append_packet_json(std::string& out, std::uint64_t number, Timestamp time,
                        std::uint32_t length, std::uint32_t captured,
                        const std::vector<dissect::Header>& headers);

}  // namespace duplex::capture
