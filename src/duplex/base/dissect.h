// Public. How a packet codec shows what it decoded: a header labelled with its layer, and its
// fields with the bytes they came from. `duplex capture -V`, --json, -X and the dashboard's
// Capture page all print this one shape, so every codec (link/ethernet, inet/ipv4, transport/
// tcp_header, proto/dns_message...) fills it the same way.
//
// A codec decodes into its own plain struct first (no allocation: the one-line output and the
// statistics need nothing more); describe() turns that struct into a Header only when a tree
// is asked for. Offsets are from the first byte of the captured packet, so that a field can
// mark its bytes in a hex dump.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duplex::dissect {

// The layer that owns a header, named in both models. The numbers are the OSI layers.
enum class Layer : std::uint8_t { link = 2, network = 3, transport = 4, application = 7 };

// "link", "network", "transport", "application": the JSON `layer` value.
std::string_view name(Layer layer) noexcept;
// The OSI number: 2, 3, 4 or 7 (the JSON `osi` value).
constexpr int osi(Layer layer) noexcept { return static_cast<int>(layer); }
// The -V heading, for example "L2 data link (OSI 2 / TCP-IP link)" or
// "L7 application (OSI 5-7 / TCP-IP application)".
std::string_view heading(Layer layer) noexcept;

// Where and why a codec stopped decoding, kept in its plain struct (no allocation: `what`
// points at a string literal). A truncated header keeps the fields before `at`.
struct Problem {
  enum class Kind : std::uint8_t { none, truncated, malformed };
  Kind kind = Kind::none;
  const char* what = "";  // "the TCP header needs 20 bytes", "IHL is below 5"
  std::uint32_t at = 0;   // the byte, from the header's start, where decoding stopped
  explicit operator bool() const noexcept { return kind != Kind::none; }
};
// "truncated at byte 12 of the header: the TCP header needs 20 bytes" (the Header::problem).
std::string to_string(const Problem& problem);

struct Field {
  // Stable and machine-readable: Wireshark's display-filter name where Wireshark has one
  // ("eth.src", "ip.ttl", "tcp.flags.syn", "tcp.options.mss_val", "dns.qry.name"), else one
  // in the same style, so that users (and the tshark differential test) know the vocabulary.
  std::string key;
  std::string label;            // what -V prints: "Source port"
  std::string value;            // the value as text: "443", "0x0800", "[SYN, ACK]"
  std::string meaning;          // optional, what the value means: "https", "IPv4", "don't fragment"
  std::uint32_t offset = 0;     // first byte of the field in the packet
  std::uint32_t length = 0;     // its bytes; 0 for a value computed from other fields
  std::vector<Field> children;  // flags of a flags field, options, records, NDP options
};

struct Header {
  std::string protocol;  // "Ethernet II", "802.1Q", "IPv4", "TCP", "DNS"
  Layer layer = Layer::link;
  std::uint32_t offset = 0;  // first byte of the header in the packet
  std::uint32_t length = 0;  // its bytes as captured (header and, for L7, its payload)
  std::vector<Field> fields;
  // Empty, or where and why decoding stopped, for example "truncated: the TCP header needs
  // 20 bytes, 12 were captured" or "malformed: IHL 4 is below the minimum of 5". The fields
  // before that point are kept.
  std::string problem;
};

// Appends a field and returns it, so that children can be added:
//   auto& f = add(h.fields, "tcp.flags", "Flags", "[SYN]", off + 13, 1);
//   add(f.children, "tcp.flags.syn", "SYN", "1", off + 13, 1, "synchronize sequence numbers");
inline Field& add(std::vector<Field>& to, std::string key, std::string label, std::string value,
                  std::uint32_t offset, std::uint32_t length, std::string meaning = {}) {
  // Room for a typical header's fields at once, rather than moving them at 1, 2, 4 and 8;
  // the strings are moved once, into the field in place.
  if (to.size() == to.capacity()) to.reserve(to.empty() ? 16 : 2 * to.size());
  Field& f = to.emplace_back();
  f.key = std::move(key);
  f.label = std::move(label);
  f.value = std::move(value);
  f.meaning = std::move(meaning);
  f.offset = offset;
  f.length = length;
  return to.back();
}

// Text helpers for values, so that every codec prints them alike.
std::string hex(std::uint64_t value, int digits);  // hex(0x800, 4) -> "0x0800"
std::string decimal(std::uint64_t value);          // "443"

}  // namespace duplex::dissect
