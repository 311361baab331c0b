#include "duplex/apps/capture/json_output.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "duplex/apps/capture/text.h"

namespace duplex::capture {
namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 when it is not one (overlong forms,
// surrogates and code points past U+10FFFF included).
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(k) < 0x80 || b(k) > 0xbf) return 0;
  return n;
}

// The bytes a JSON string holds as they are: printable ASCII but for '"' and '\\'.
constexpr auto kPlain = [] {
  std::array<bool, 256> plain{};
  for (std::size_t c = 0x20; c < 0x7f; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

// Whether all 8 bytes at `p` are kPlain, tested at once: no byte below 0x20, none from 0x7f
// up, no '"' and no '\\' (most text, keys and labels all, has nothing to escape).
bool all_plain(const char* p) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101u, kHigh = 0x8080808080808080u;
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  const auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const auto below = (x - kOnes * 0x20) & ~x & kHigh;  // a byte < 0x20 (or >= 0x80)
  return ((x | below | has_zero(x ^ (kOnes * 0x7f)) | has_zero(x ^ (kOnes * '"')) |
           has_zero(x ^ (kOnes * '\\'))) &
          kHigh) == 0;
}

// Appends `s` as the inside of a JSON string, escaped.
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t plain = 0;  // the start of the bytes not yet appended, all copied as they are
  for (std::size_t i = 0; i < s.size();) {
    if (i + 8 <= s.size() && all_plain(s.data() + i)) {
      i += 8;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (kPlain[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t n = utf8_length(s, i);
      if (n != 0) {
        i += n;
        continue;
      }
    }
    out.append(s.data() + plain, i - plain);
    switch (c) {
      case '"':
        append_literal(out, "\\\"");
        break;
      case '\\':
        append_literal(out, "\\\\");
        break;
      case '\n':
        append_literal(out, "\\n");
        break;
      case '\r':
        append_literal(out, "\\r");
        break;
      case '\t':
        append_literal(out, "\\t");
        break;
      default:
        if (c >= 0x80) {
          append_literal(out, "\xef\xbf\xbd");  // U+FFFD
        } else {
          const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
          out.append(escape, sizeof escape);
        }
    }
    plain = ++i;
  }
  out.append(s.data() + plain, s.size() - plain);
}

void append_field_json(std::string& out, const dissect::Field& f) {
  append_literal(out, "{\"key\":\"");
  append_escaped(out, f.key);
  append_literal(out, "\",\"label\":\"");
  append_escaped(out, f.label);
  append_literal(out, "\",\"value\":\"");
  append_escaped(out, f.value);
  if (!f.meaning.empty()) {
    append_literal(out, "\",\"meaning\":\"");
    append_escaped(out, f.meaning);
  }
  append_literal(out, "\",\"offset\":");
  append_number(out, f.offset);
  append_literal(out, ",\"length\":");
  append_number(out, f.length);
  if (!f.children.empty()) {
    append_literal(out, ",\"children\":[");
    for (std::size_t i = 0; i < f.children.size(); ++i) {
      if (i != 0) out += ',';
      append_field_json(out, f.children[i]);
    }
    out += ']';
  }
  out += '}';
}

// Appends iso_time(time), quotes included. The part to the second is formatted once per
// second of capture time (gmtime and printf cost more than the rest of a small packet).
void append_iso_time(std::string& out, Timestamp time) {
  thread_local std::int64_t second = 0;
  thread_local char prefix[48] = "";  // "2026-12-05T07:00:00", empty until the first
  thread_local std::size_t prefix_length = 0;
  if (prefix_length == 0 || time.seconds != second) {
    const std::time_t t = static_cast<std::time_t>(time.seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    const int n =
        std::snprintf(prefix, sizeof prefix, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    prefix_length =
        n > 0 ? std::min<std::size_t>(static_cast<std::size_t>(n), sizeof prefix - 1) : 0;
    second = time.seconds;
  }
  out += '"';
  out.append(prefix, prefix_length);
  char fraction[] = ".000000Z\"";
  std::uint32_t us = time.microseconds % 1000000u;
  for (int i = 6; i >= 1; --i, us /= 10) fraction[i] = static_cast<char>('0' + us % 10);
  out.append(fraction, sizeof fraction - 1);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

std::string iso_time(Timestamp time) {
  std::string out;
  append_iso_time(out, time);
  return out.substr(1, out.size() - 2);
}

void append_header_json(std::string& out, const dissect::Header& h) {
  append_literal(out, "{\"layer\":\"");
  append_escaped(out, dissect::name(h.layer));
  append_literal(out, "\",\"osi\":");
  append_number(out, static_cast<std::uint64_t>(dissect::osi(h.layer)));
  append_literal(out, ",\"protocol\":\"");
  append_escaped(out, h.protocol);
  append_literal(out, "\",\"offset\":");
  append_number(out, h.offset);
  append_literal(out, ",\"length\":");
  append_number(out, h.length);
  append_literal(out, ",\"fields\":[");
  for (std::size_t i = 0; i < h.fields.size(); ++i) {
    if (i != 0) out += ',';
    append_field_json(out, h.fields[i]);
  }
  out += ']';
  if (!h.problem.empty()) {
    append_literal(out, ",\"problem\":");
    append_json_string(out, h.problem);
  }
  out += '}';
}

void append_packet_json(std::string& out, std::uint64_t number, Timestamp time,
                        std::uint32_t length, std::uint32_t captured,
                        const std::vector<dissect::Header>& headers) {
  append_literal(out, "{\"number\":");
  append_number(out, number);
  append_literal(out, ",\"time\":");
  append_iso_time(out, time);
  append_literal(out, ",\"length\":");
  append_number(out, length);
  append_literal(out, ",\"captured\":");
  append_number(out, captured);
  append_literal(out, ",\"layers\":[");
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i != 0) out += ',';
    append_header_json(out, headers[i]);
  }
  out += "]}";
}

}  // namespace duplex::capture
