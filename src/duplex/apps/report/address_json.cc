#include "duplex/apps/report/address_json.h"

#include <utility>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"
#include "duplex/inet/subnet.h"
#include "duplex/link/neighbour_table.h"
#include "duplex/link/oui.h"

namespace duplex::apps {
namespace {

using inet::Address;
using inet::Family;
using inet::MaskNotation;
using inet::Prefix;
using Json = OrderedJson;

Json or_null(const std::optional<Address>& a) { return a ? Json(a->to_string()) : Json(nullptr); }

unsigned classful_length(char cls) { return cls == 'A' ? 8 : cls == 'B' ? 16 : 24; }

std::string family_name(Family f) { return f == Family::v4 ? "IPv4" : "IPv6"; }

struct Operand {
  std::string input;
  Address address;
  std::optional<unsigned> length;
};

Operand operand(std::string_view text) {
  MaskNotation how{};
  const auto p = Prefix::parse(text, &how);
  Operand o{std::string(text), p.address(), std::nullopt};
  if (how != MaskNotation::none) o.length = p.length();
  return o;
}

// An IPv4 value written as a mask is (dotted or 0x hex, first octet 0 or 255): no host
// address anyone looks up, but the start of every netmask and wildcard mask.
bool looks_like_mask(std::string_view text) {
  const auto a = Address::try_parse(text);
  if (!a || !a->is_v4() || text.find_first_not_of("0123456789") == std::string_view::npos)
    return false;
  const auto first = a->value() >> 24;
  return first == 0 || first == 0xff;
}

Json subnet_json(const Prefix& p, std::optional<std::uint64_t> requested) {
  Json j;
  j["subnet"] = p.to_string();
  j["network"] = p.network().to_string();
  j["first_host"] = p.first_host().to_string();
  j["last_host"] = p.last_host().to_string();
  j["last_address"] = p.last().to_string();
  const auto b = p.broadcast();
  j["broadcast"] = b ? Json(b->to_string()) : Json();
  j["host_count"] = p.host_count_decimal();
  j["requested_hosts"] = requested ? Json(*requested) : Json();
  return j;
}

}  // namespace

std::optional<IpItem> ip_address_and_mask(const std::string& address, const std::string& mask) {
  if (address.find_first_of("/ \t") != std::string::npos || mask.find('/') != std::string::npos)
    return std::nullopt;
  const auto a = Address::try_parse(address);
  if (!a || !a->is_v4()) return std::nullopt;
  MaskNotation how = MaskNotation::none;
  try {
    const unsigned len = Prefix::parse_mask(mask, Family::v4, &how);
    if (how == MaskNotation::length) return std::nullopt;  // "10.0.0.1 24": two addresses
    return IpItem{address + " " + mask, Prefix(*a, len), how};
  } catch (const ParseError& e) {
    // 255.0.255.0 after an address was meant as its mask, as ipcalc reads it: reporting
    // it as a second address would answer a question nobody asked.
    if (looks_like_mask(mask))
      throw ParseError(std::string(e.what()) + "; to report it as an address, write " +
                       quote(mask + "/32"));
  }
  return std::nullopt;
}

IpItem ip_item(const std::string& word) {
  IpItem item{word, {}, MaskNotation::none};
  item.prefix = Prefix::parse(word, &item.notation);
  return item;
}

std::vector<IpItem> ip_items(const std::vector<std::string>& words) {
  if (words.size() == 2)
    if (auto pair = ip_address_and_mask(words[0], words[1])) return {std::move(*pair)};
  std::vector<IpItem> items;
  for (const auto& w : words) items.push_back(ip_item(w));
  return items;
}

Json ip_report(const IpItem& item) {
  const Address& a = item.prefix.address();
  const bool v4 = a.is_v4();
  const auto* special = a.special();
  Json j;
  j["input"] = item.input;
  j["family"] = v4 ? "ipv4" : "ipv6";
  j["address"] = a.to_string();
  j["decimal"] = a.to_decimal();
  j["hex"] = a.to_hex();
  j["binary"] = a.to_binary();
  j["expanded"] = a.to_expanded();
  j["reverse_dns"] = a.reverse_dns();
  j["ipv4_mapped"] = a.is_v4_mapped() ? Json(a.unmapped().to_string()) : Json(nullptr);
  const char cls = a.ipv4_class();
  j["class"] = cls ? Json(std::string(1, cls)) : Json(nullptr);
  const bool classful = cls >= 'A' && cls <= 'C';
  j["classful_mask"] =
      classful ? Json(Prefix::mask_of(Family::v4, classful_length(cls)).to_string()) : Json();
  j["classful_prefix_length"] = classful ? Json(classful_length(cls)) : Json();
  j["type"] = to_string(a.category());
  j["type_name"] = special ? Json(special->name) : Json("Global unicast");
  j["type_block"] = special ? Json(special->prefix) : Json();
  j["type_rfc"] = special ? Json(special->rfc) : Json();
  j["globally_reachable"] = a.is_global();
  const auto& p = item.prefix;
  const bool m = item.has_mask();
  auto when = [m](Json v) { return m ? std::move(v) : Json(); };
  j["prefix"] = when(p.masked().to_string());
  j["prefix_length"] = when(p.length());
  j["mask_notation"] = when(std::string(to_string(item.notation)));
  j["mask"] = when(p.mask().to_string());
  j["mask_hex"] = when(p.mask().to_hex());
  j["wildcard"] = when(p.wildcard().to_string());
  j["network"] = when(p.network().to_string());
  j["broadcast"] = when(or_null(p.broadcast()));
  j["first_address"] = when(p.network().to_string());
  j["last_address"] = when(p.last().to_string());
  j["first_host"] = when(p.first_host().to_string());
  j["last_host"] = when(p.last_host().to_string());
  j["address_count"] = when(p.address_count_decimal());
  j["host_count"] = when(p.host_count_decimal());
  return j;
}

SameSubnet same_subnet(std::string_view a_text, std::string_view b_text,
                       const std::optional<std::string>& mask, MaskOption option) {
  const Operand a = operand(a_text);
  const Operand b = operand(b_text);
  if (a.address.family() != b.address.family())
    throw ParseError(quote(a.input) + " is " + family_name(a.address.family()) + " and " +
                     quote(b.input) + " is " + family_name(b.address.family()) +
                     ": they cannot share a subnet");
  unsigned length = 0;
  if (mask) {
    length = Prefix::parse_mask(*mask, a.address.family());
  } else if (a.length && b.length && *a.length != *b.length) {
    throw AskError(quote(a.input) + " and " + quote(b.input) +
                   " carry different lengths; give one with " + std::string(option.name));
  } else if (a.length || b.length) {
    length = a.length ? *a.length : *b.length;
  } else {
    throw AskError("no mask: write A/LEN or give " + std::string(option.name) + ", e.g. " +
                   std::string(option.example));
  }
  SameSubnet s;
  s.length = length;
  s.mask = Prefix::mask_of(a.address.family(), length);
  s.a = {a.input, a.address, a.address & s.mask};
  s.b = {b.input, b.address, b.address & s.mask};
  s.same = s.a.network == s.b.network;
  return s;
}

Json same_subnet_json(const SameSubnet& s) {
  Json j;
  j["same_subnet"] = s.same;
  j["prefix_length"] = s.length;
  j["mask"] = s.mask.to_string();
  j["mask_binary"] = s.mask.to_binary();
  j["network"] = s.same ? Json(Prefix(s.a.network, s.length).to_string()) : Json();
  j["addresses"] = Json::array();
  for (const auto* o : {&s.a, &s.b}) {
    j["addresses"].push_back({{"input", o->input},
                              {"address", o->address.to_string()},
                              {"binary", o->address.to_binary()},
                              {"network", o->network.to_string()},
                              {"network_binary", o->network.to_binary()}});
  }
  return j;
}

Split split_by_count(const Prefix& whole, std::uint64_t count) {
  const auto r = as_parse_error([&] { return inet::split_by_count(whole, count); });
  Split s;
  s.whole = whole;
  s.mode = "count";
  s.requested_count = count;
  s.rounded_count = r.rounded_count;
  s.new_length = r.new_length;
  s.subnets = r.subnets;
  return s;
}

Split split_by_length(const Prefix& whole, std::string_view length_text) {
  const unsigned len = Prefix::parse_mask(length_text, whole.family());
  Split s;
  s.whole = whole;
  s.mode = "prefix";
  s.new_length = len;
  s.subnets = as_parse_error([&] { return inet::split_by_length(whole, len); });
  s.rounded_count = s.subnets.size();
  return s;
}

Split split_by_hosts(const Prefix& whole, const std::vector<std::uint64_t>& hosts) {
  const auto plan = as_parse_error([&] { return inet::split_by_hosts(whole, hosts); });
  Split s;
  s.whole = whole;
  s.mode = "hosts";
  for (const auto& a : plan.allocations) {
    s.subnets.push_back(a.subnet);
    s.hosts.push_back(a.hosts);
  }
  s.rounded_count = s.subnets.size();
  s.free = plan.free;
  return s;
}

std::vector<std::uint64_t> parse_host_counts(std::string_view list, std::string_view option) {
  std::vector<std::uint64_t> out;
  std::string_view rest = list;
  while (true) {
    const auto comma = rest.find(',');
    const auto item = trim(rest.substr(0, comma));
    const auto n = parse_uint(item, UINT64_MAX);
    if (!n || *n == 0)
      throw AskError(std::string(option) + " " + quote(item) +
                     " is not a host count (a whole number from 1)");
    out.push_back(*n);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

Json split_json(const Split& s) {
  Json j;
  j["prefix"] = s.whole.to_string();
  j["mode"] = s.mode;
  j["requested_count"] = s.requested_count ? Json(*s.requested_count) : Json(nullptr);
  j["new_prefix_length"] = s.new_length ? Json(*s.new_length) : Json(nullptr);
  j["count"] = s.subnets.size();
  j["subnets"] = Json::array();
  for (std::size_t i = 0; i < s.subnets.size(); ++i)
    j["subnets"].push_back(
        subnet_json(s.subnets[i], i < s.hosts.size() ? std::optional(s.hosts[i]) : std::nullopt));
  j["free"] = Json::array();
  for (const auto& p : s.free) j["free"].push_back(p.to_string());
  return j;
}

Json aggregate_json(const std::vector<Prefix>& input) {
  const auto out = inet::aggregate(input);
  Json j;
  j["input_count"] = input.size();
  j["count"] = out.size();
  j["prefixes"] = Json::array();
  for (const auto& p : out) j["prefixes"].push_back(p.to_string());
  return j;
}

Json range_json(const Address& first, const Address& last) {
  const auto out = as_parse_error([&] { return inet::range_to_prefixes(first, last); });
  Json j;
  j["first"] = first.to_string();
  j["last"] = last.to_string();
  const inet::uint128 span = last.value() - first.value();
  j["address_count"] =
      span == inet::u128::kMax ? inet::u128::pow2_decimal(128) : inet::u128::to_decimal(span + 1);
  j["prefixes"] = Json::array();
  for (const auto& p : out) j["prefixes"].push_back(p.to_string());
  return j;
}

MacVendor mac_vendor(const link::MacAddress& mac) {
  MacVendor v;
  const auto block = link::oui::lookup(mac);
  if (!block) return v;
  v.organization = std::string(block->organization);
  v.registry = std::string(to_string(block->registry));
  v.block = block->to_string();
  v.block_size = block->size();
  v.from_group_oui = mac < block->first() || block->last() < mac;
  return v;
}

std::vector<std::string> mac_notes(const link::MacAddress& mac) {
  std::vector<std::string> notes;
  const auto& b = mac.bytes();
  if (mac.is_broadcast()) {
    notes.emplace_back("broadcast: every station on the segment receives it (ARP requests, DHCP)");
  } else if (b[0] == 0x01 && b[1] == 0x00 && b[2] == 0x5e && (b[3] & 0x80) == 0) {
    notes.push_back(
        "IPv4 multicast (RFC 1112): 01:00:5e plus the low 23 bits of the group, "
        "here 224." +
        std::to_string(b[3]) + "." + std::to_string(b[4]) + "." + std::to_string(b[5]) +
        " and the 31 other groups that share those bits");
  } else if (b[0] == 0x33 && b[1] == 0x33) {
    notes.emplace_back(
        "IPv6 multicast (RFC 2464): 33:33 plus the low 32 bits of the group "
        "address, e.g. ff02::1 -> 33:33:00:00:00:01");
  } else if (b[0] == 0x01 && b[1] == 0x80 && b[2] == 0xc2 && b[3] == 0 && b[4] == 0 &&
             b[5] < 0x10) {
    notes.emplace_back(
        "IEEE 802.1 reserved group (01:80:c2:00:00:00-0f): bridges do not "
        "forward it; STP uses :00, LACP :02, LLDP :0e");
  }
  if (mac.is_zero())
    notes.emplace_back(
        "all zeros: no station has it; ARP requests carry it as the unknown "
        "target hardware address");
  return notes;
}

nlohmann::json mac_json(std::string_view input, const link::MacAddress& mac) {
  using link::MacFormat;
  const MacVendor v = mac_vendor(mac);
  auto opt = [](const auto& o) { return o ? nlohmann::json(*o) : nlohmann::json(nullptr); };
  nlohmann::json j;
  j["input"] = input;
  j["mac"] = mac.to_string();
  j["hyphen"] = mac.to_string(MacFormat::hyphen);
  j["cisco"] = mac.to_string(MacFormat::cisco);
  j["bare"] = mac.to_string(MacFormat::bare);
  // A group address is no interface's own, so IPv6 derives no interface id from it.
  j["eui64"] = mac.is_group() ? nlohmann::json(nullptr)
                              : nlohmann::json(link::to_string(mac.modified_eui64()));
  j["link_local"] =
      mac.is_group() ? nlohmann::json(nullptr) : nlohmann::json(mac.ipv6_link_local().to_string());
  j["oui"] = mac.to_string().substr(0, 8);
  j["group"] = mac.is_group();
  j["multicast"] = mac.is_group() && !mac.is_broadcast();
  j["broadcast"] = mac.is_broadcast();
  j["locally_administered"] = mac.is_local();
  j["vendor"] = opt(v.organization);
  j["registry"] = opt(v.registry);
  j["block"] = opt(v.block);
  j["block_size"] = opt(v.block_size);
  j["vendor_from_group_oui"] = v.from_group_oui;
  j["notes"] = mac_notes(mac);
  return j;
}

std::optional<std::string> station_vendor(const link::MacAddress& mac) {
  if (mac.is_local() || mac.is_group() || mac.is_zero()) return std::nullopt;
  if (auto a = link::oui::lookup(mac)) return std::string(a->organization);
  return std::nullopt;
}

nlohmann::json station_vendor_json(const link::MacAddress& mac) {
  auto v = station_vendor(mac);
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json neighbour_json(const link::Neighbour& n) {
  nlohmann::json j;
  j["ip"] = n.ip.to_string();
  j["family"] = n.ip.is_v4() ? "ipv4" : "ipv6";
  j["mac"] = n.mac ? nlohmann::json(n.mac->to_string()) : nlohmann::json(nullptr);
  j["vendor"] = n.mac ? station_vendor_json(*n.mac) : nlohmann::json(nullptr);
  j["dev"] = n.dev;
  j["ifindex"] = n.ifindex;
  j["state"] = n.state_names();
  j["flags"] = n.flag_names();
  j["router"] = n.is_router();
  return j;
}

}  // namespace duplex::apps
