// `duplex mac MAC...`: what a MAC address says about itself and who the IEEE assigned it to.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"
#include "duplex/apps/report/address_json.h"
#include "duplex/base/error.h"
#include "duplex/link/mac_address.h"
#include "duplex/link/oui.h"
#include "output.h"

namespace duplex::cli {
namespace {

using link::MacAddress;
using link::MacFormat;

// "2022-08-27", or "unknown date" when ieee-data recorded none.
std::string snapshot_date(std::int64_t unix_time) {
  if (unix_time <= 0) return "an unknown date";
  const std::chrono::sys_days day = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_seconds(std::chrono::seconds(unix_time)));
  const std::chrono::year_month_day ymd(day);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// 16777216 -> "16,777,216"
std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

void print_help() {
  const auto s = link::oui::snapshot();
  std::cout
      << "Usage: duplex mac [--json] MAC...\n\n"
         "Shows a MAC address in every notation, the vendor the IEEE assigned its block to,\n"
         "and what its I/G (group) and U/L (locally administered) bits mean.\n\n"
         "MAC may be written\n"
         "  00:1a:2b:3c:4d:5e   colon (a group may drop its leading zero: 0:1a:2b:3:4:5e)\n"
         "  00-1A-2B-3C-4D-5E   hyphen\n"
         "  001a.2b3c.4d5e      Cisco dot\n"
         "  001a2b3c4d5e        bare hex\n"
         "in either case. '-' reads one MAC per line from stdin ('#' starts a comment).\n\n"
         "Options:\n"
         "  --json   one JSON object per MAC per line, with the keys\n"
         "             input, mac (colon form), hyphen, cisco, bare, eui64 (modified EUI-64\n"
         "             interface id) and link_local (IPv6 fe80:: address), both null\n"
         "             for group addresses, oui,\n"
         "             group (I/G bit), multicast, broadcast, locally_administered (U/L bit),\n"
         "             vendor, registry (MA-L, MA-M, MA-S or IAB), block (first address/prefix\n"
         "             length), block_size (addresses in the block), vendor_from_group_oui,\n"
         "             notes (list of strings); vendor, registry, block and block_size are\n"
         "             null when no IEEE block holds the address\n"
         "  -h, --help\n\n"
         "Examples:\n"
         "  duplex mac 00:00:0c:12:34:56          Cisco's first OUI\n"
         "  duplex mac 70:b3:d5:f2:fa:bc          an MA-S block inside the IEEE's own MA-L\n"
         "  duplex mac 01:00:5e:00:00:fb          IPv4 multicast (mDNS, 224.0.0.251)\n"
         "  duplex mac --json 0000.0c12.3456\n"
         "  ip -br link | awk '{print $3}' | duplex mac -\n\n"
         "Vendor index: "
      << grouped(s.ma_l) << " MA-L, " << grouped(s.ma_m) << " MA-M, " << grouped(s.ma_s)
      << " MA-S and " << grouped(s.iab) << " IAB blocks (" << grouped(s.index_bytes)
      << " bytes),\nbuilt from " << s.source << " of " << snapshot_date(s.updated)
      << ".\n\n"
         "Exit status: 0 every MAC parsed; 2 usage error, or at least one MAC did not parse.\n"
         "With several MACs, each bad one is reported on stderr as one line and the good ones\n"
         "are still printed, so a piped list loses nothing but gets a non-zero status.\n";
}

std::string ig_words(const MacAddress& mac) {
  if (mac.is_broadcast()) return "1 group: broadcast, every station on the segment receives it";
  if (mac.is_group())
    return "1 group: multicast, every interface that joined the group receives it";
  return "0 individual: unicast, one interface receives it";
}

std::string ul_words(const MacAddress& mac) {
  if (mac.is_broadcast()) return "1 (broadcast sets every bit)";
  if (mac.is_local() && mac.is_group())
    return "1 locally administered group: defined by a protocol, not from a vendor's OUI";
  if (mac.is_local())
    return "1 locally administered: not from a vendor, often a random MAC from a phone or VM";
  return "0 universal: burnt in by the vendor from its IEEE block";
}

void print_human(const MacAddress& mac) {
  const apps::MacVendor v = apps::mac_vendor(mac);
  auto row = [](std::string_view label, const std::string& value) {
    std::cout << "  " << dim(std::string(label) + std::string(12 - label.size(), ' ')) << value
              << '\n';
  };
  std::cout << bold(mac.to_string()) << '\n';
  if (v.organization) {
    std::string name = *v.organization;
    if (v.from_group_oui) name += "  (owner of the OUI this group address derives from)";
    row("vendor", cyan(name));
    row("block", *v.block + ", " + *v.registry + " (" + grouped(*v.block_size) + " addresses)");
  } else if (mac.is_broadcast()) {
    row("vendor", "none: the broadcast address belongs to no one");
  } else if (mac.is_local()) {
    row("vendor", "none: locally administered, so no IEEE block applies");
  } else {
    row("vendor", "unknown: in none of the IEEE registries of " +
                      snapshot_date(link::oui::snapshot().updated));
  }
  row("colon", mac.to_string());
  row("hyphen", mac.to_string(MacFormat::hyphen));
  row("cisco", mac.to_string(MacFormat::cisco));
  row("bare", mac.to_string(MacFormat::bare));
  if (mac.is_group()) {
    row("eui-64", "none: a group address is no interface's own address");
  } else {
    row("eui-64", link::to_string(mac.modified_eui64()) + "  (modified EUI-64 interface id)");
    row("link-local", mac.ipv6_link_local().to_string());
  }
  row("I/G bit", ig_words(mac));
  row("U/L bit", ul_words(mac));
  for (const auto& n : apps::mac_notes(mac)) row("note", n);
}

}  // namespace

int mac_main(Argv argv) {
  Args args("duplex mac", argv, {{"json", 0, false}});
  if (args.help()) {
    print_help();
    return 0;
  }
  args.expand_stdin();
  if (args.positionals().empty()) args.fail("missing MAC address");
  const bool json = args.has("json");

  bool first = true;
  // Report and go on: a piped list keeps every good line and still fails as a whole.
  return args.each_positional([&](const std::string& text) {
    const MacAddress mac = MacAddress::parse(text);
    if (json) {
      print_json(apps::mac_json(text, mac));
    } else {
      if (!first) std::cout << '\n';
      print_human(mac);
    }
    first = false;
  });
}

}  // namespace duplex::cli
