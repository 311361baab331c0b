#include "duplex/apps/capture/tree_output.h"

#include <cstdio>

namespace duplex::capture {
namespace {

void append_field(std::string& out, const dissect::Field& f, int depth) {
  out.append(2 * static_cast<std::size_t>(depth), ' ');
  out += f.label;
  out += ": ";
  out += f.value;
  if (!f.meaning.empty()) {
    out += " (";
    out += f.meaning;
    out += ')';
  }
  out += '\n';
  for (const auto& child : f.children) append_field(out, child, depth + 1);
}

// Which header owns each byte: the last header in the list that covers it (headers come in
// the packet's order, so a quoted datagram comes after the ICMP message that holds it);
// -1 for none.
std::vector<int> owners(const std::vector<dissect::Header>& headers, std::size_t size) {
  std::vector<int> owner(size, -1);
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const auto& h = headers[i];
    for (std::size_t b = h.offset; b < size && b < std::size_t{h.offset} + h.length; ++b)
      owner[b] = static_cast<int>(i);
  }
  return owner;
}

void append_row(std::string& out, std::span<const std::uint8_t> bytes, std::size_t at,
                std::size_t count, std::string_view name) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char offset[32];
  std::snprintf(offset, sizeof offset, "0x%04zx:  ", at);
  out += offset;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i < count) {
      out += kDigits[bytes[at + i] >> 4];
      out += kDigits[bytes[at + i] & 0xf];
    } else {
      out += "  ";
    }
    if (i % 2 == 1) out += ' ';
  }
  out += ' ';
  for (std::size_t i = 0; i < 16; ++i) {
    const std::uint8_t c = i < count ? bytes[at + i] : ' ';
    out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.';
  }
  out += "  ";
  out += name;
  out += '\n';
}

}  // namespace

std::string format_tree(const std::vector<dissect::Header>& headers) {
  std::string out;
  for (const auto& h : headers) {
    out += dissect::heading(h.layer);
    out += ": ";
    out += h.protocol;
    out += '\n';
    for (const auto& f : h.fields) append_field(out, f, 1);
    if (!h.problem.empty()) {
      out += "  [";
      out += h.problem;
      out += "]\n";
    }
  }
  return out;
}

std::string format_hex(const std::vector<dissect::Header>& headers,
                       std::span<const std::uint8_t> bytes) {
  const auto owner = owners(headers, bytes.size());
  std::string out;
  std::size_t at = 0;
  while (at < bytes.size()) {
    // A row ends at 16 bytes or where the next header starts.
    std::size_t count = 1;
    while (count < 16 && at + count < bytes.size() && owner[at + count] == owner[at]) ++count;
    const int o = owner[at];
    append_row(out, bytes, at, count,
               o < 0 ? "payload" : std::string_view(headers[static_cast<std::size_t>(o)].protocol));
    at += count;
  }
  return out;
}

}  // namespace duplex::capture
