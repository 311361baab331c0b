// Public. The JSON reports of `duplex ip`, `duplex mac` and `duplex arp show`, shared by
// the CLI's --json output and `duplex serve`'s /api/ip, /api/mac and /api/neighbours, so
// that a script gets the same keys from either (docs/api.md lists them).
//
// Pure computation on values (the OUI index is read-only): safe to call from any thread.
// Bad input throws duplex::ParseError with the CLI's one-line message; a mistake in how
// the question was put (no mask at all, two different lengths) throws AskError, to which
// the CLI adds its "see --help" hint.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/base/error.h"
#include "duplex/inet/prefix.h"
#include "duplex/link/mac_address.h"

namespace duplex::link {
struct Neighbour;
}

namespace duplex::apps {

// Keys in the order written, as `duplex ip --help` documents them.
using OrderedJson = nlohmann::ordered_json;

class AskError : public ParseError {
 public:
  using ParseError::ParseError;
};

// --- duplex ip ADDRESS[/LEN | MASK] -----------------------------------------------------

struct IpItem {
  std::string input;
  inet::Prefix prefix;
  inet::MaskNotation notation = inet::MaskNotation::none;
  bool has_mask() const noexcept { return notation != inet::MaskNotation::none; }
};
// Reads words as items; exactly "ADDRESS MASK" (two words, the second a netmask) is one
// prefix, as ipcalc reads it.
std::vector<IpItem> ip_items(const std::vector<std::string>& words);
// The two words as one "ADDRESS MASK" prefix, or nullopt when they are two items. A second
// word written like a mask (255.0.255.0) that is not one is a ParseError naming it.
std::optional<IpItem> ip_address_and_mask(const std::string& address, const std::string& mask);
// One word: an address or a prefix.
IpItem ip_item(const std::string& word);
// Everything about the address or prefix: the keys of `duplex ip --json`.
OrderedJson ip_report(const IpItem& item);

// --- duplex ip same A B [--mask M] ------------------------------------------------------

struct SameSubnet {
  struct Side {
    std::string input;
    inet::Address address;
    inet::Address network;  // address AND mask
  };
  Side a, b;
  unsigned length = 0;
  inet::Address mask;
  bool same = false;
};
// How the mask option is named where the question comes from, for the messages:
// {"--mask", "--mask 255.255.255.0"} for the CLI, {"mask=", "mask=255.255.255.0"} for HTTP.
struct MaskOption {
  std::string_view name;
  std::string_view example;
};
// ANDs both addresses with the mask, from `mask` or else from A/LEN or B/LEN.
SameSubnet same_subnet(std::string_view a, std::string_view b,
                       const std::optional<std::string>& mask, MaskOption option);
OrderedJson same_subnet_json(const SameSubnet& s);

// --- duplex ip split PREFIX (--count N | --prefix LEN | --hosts H1,...) ------------------

struct Split {
  inet::Prefix whole;  // masked
  std::string mode;    // "count", "prefix", "hosts"
  std::optional<std::uint64_t> requested_count;
  std::uint64_t rounded_count = 0;
  std::optional<unsigned> new_length;
  std::vector<inet::Prefix> subnets;
  std::vector<std::uint64_t> hosts;  // mode "hosts": the hosts asked for, per subnet
  std::vector<inet::Prefix> free;
};
Split split_by_count(const inet::Prefix& whole, std::uint64_t count);
Split split_by_length(const inet::Prefix& whole, std::string_view length_text);
Split split_by_hosts(const inet::Prefix& whole, const std::vector<std::uint64_t>& hosts);
// "100,50,20" -> {100, 50, 20}; AskError "<option> 'x' is not a host count..." otherwise.
std::vector<std::uint64_t> parse_host_counts(std::string_view list, std::string_view option);
OrderedJson split_json(const Split& s);

// --- duplex ip aggregate, duplex ip range ------------------------------------------------

OrderedJson aggregate_json(const std::vector<inet::Prefix>& input);
OrderedJson range_json(const inet::Address& first, const inet::Address& last);

// --- duplex mac, and the vendor of a neighbour ------------------------------------------

// The IEEE block holding `mac` (tried again with the group bit cleared, for multicast
// addresses derived from an OUI); `from_group_oui` says it was found that way.
struct MacVendor {
  std::optional<std::string> organization;
  std::optional<std::string> registry;  // "MA-L", "MA-M", "MA-S", "IAB"
  std::optional<std::string> block;     // "00:00:0c:00:00:00/24"
  std::optional<std::uint64_t> block_size;
  bool from_group_oui = false;
};
MacVendor mac_vendor(const link::MacAddress& mac);
// What is special about this address (broadcast, multicast mappings...), in words.
std::vector<std::string> mac_notes(const link::MacAddress& mac);
// The keys of `duplex mac --json` (sorted, as nlohmann::json writes them).
nlohmann::json mac_json(std::string_view input, const link::MacAddress& mac);

// The vendor of a station's MAC: nullopt for a locally administered, group or zero address
// and for an unassigned block.
std::optional<std::string> station_vendor(const link::MacAddress& mac);
nlohmann::json station_vendor_json(const link::MacAddress& mac);  // a string or null

// One entry of the neighbour table: the keys of `duplex arp show --json`.
nlohmann::json neighbour_json(const link::Neighbour& n);

}  // namespace duplex::apps
