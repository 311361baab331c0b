#include "duplex/apps/capture/json_output.h"

#include <cstdio>
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

// ,"key":
void append_key(std::string& out, std::string_view key, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;
  out += "\":";
}

void append_field_json(std::string& out, const dissect::Field& f) {
  out += '{';
  append_key(out, "key", true);
  append_json_string(out, f.key);
  append_key(out, "label");
  append_json_string(out, f.label);
  append_key(out, "value");
  append_json_string(out, f.value);
  if (!f.meaning.empty()) {
    append_key(out, "meaning");
    append_json_string(out, f.meaning);
  }
  append_key(out, "offset");
  append_number(out, f.offset);
  append_key(out, "length");
  append_number(out, f.length);
  if (!f.children.empty()) {
    append_key(out, "children");
    out += '[';
    for (std::size_t i = 0; i < f.children.size(); ++i) {
      if (i != 0) out += ',';
      append_field_json(out, f.children[i]);
    }
    out += ']';
  }
  out += '}';
}

}  // namespace

std::string iso_time(Timestamp time) {
  const std::time_t t = static_cast<std::time_t>(time.seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                time.microseconds % 1000000u);
  return buf;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_length(s, i);
      if (n == 0) {
        out += "\xef\xbf\xbd";  // U+FFFD
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void append_header_json(std::string& out, const dissect::Header& h) {
  out += '{';
  append_key(out, "layer", true);
  append_json_string(out, dissect::name(h.layer));
  append_key(out, "osi");
  append_number(out, static_cast<std::uint64_t>(dissect::osi(h.layer)));
  append_key(out, "protocol");
  append_json_string(out, h.protocol);
  append_key(out, "offset");
  append_number(out, h.offset);
  append_key(out, "length");
  append_number(out, h.length);
  append_key(out, "fields");
  out += '[';
  for (std::size_t i = 0; i < h.fields.size(); ++i) {
    if (i != 0) out += ',';
    append_field_json(out, h.fields[i]);
  }
  out += ']';
  if (!h.problem.empty()) {
    append_key(out, "problem");
    append_json_string(out, h.problem);
  }
  out += '}';
}

void append_packet_json(std::string& out, std::uint64_t number, Timestamp time,
                        std::uint32_t length, std::uint32_t captured,
                        const std::vector<dissect::Header>& headers) {
  out += '{';
  append_key(out, "number", true);
  append_number(out, number);
  append_key(out, "time");
  out += '"';
  out += iso_time(time);
  out += '"';
  append_key(out, "length");
  append_number(out, length);
  append_key(out, "captured");
  append_number(out, captured);
  append_key(out, "layers");
  out += '[';
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i != 0) out += ',';
    append_header_json(out, headers[i]);
  }
  out += "]}";
}

}  // namespace duplex::capture
