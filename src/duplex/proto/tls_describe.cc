// describe() and summary() of the TLS records of a segment: Wireshark's tls.* fields and its
// Info column.
#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"
#include "duplex/proto/tls_record.h"

namespace duplex::tls {
namespace {

using dissect::decimal;
using dissect::Field;
using dissect::hex;
using wire::be16;

std::string_view content_type_name(std::uint8_t type) noexcept {
  switch (type) {
    case kChangeCipherSpec:
      return "Change Cipher Spec";
    case kAlert:
      return "Alert";
    case kHandshake:
      return "Handshake";
    case kApplicationData:
      return "Application Data";
    case kHeartbeat:
      return "Heartbeat";
  }
  return "";
}

std::string text_of(std::span<const std::uint8_t> bytes, const Piece& p) {
  return {reinterpret_cast<const char*>(bytes.data()) + p.at, p.length};
}

// Adds a field each for the 2-byte items of `list`.
void add_u16s(std::vector<Field>& to, std::span<const std::uint8_t> b, const Piece& list,
              std::uint32_t base, const char* key, const char* label,
              std::string_view (*meaning)(std::uint16_t) noexcept) {
  for (std::uint32_t p = list.at; p + 2 <= list.at + list.length; p += 2)
    add(to, key, label, hex(be16(&b[p]), 4), base + p, 2, std::string(meaning(be16(&b[p]))));
}

void describe_extension(const TlsHello& h, std::span<const std::uint8_t> b, std::uint16_t type,
                        std::uint32_t base, std::vector<Field>& to) {
  const bool client = h.type == kClientHello;
  switch (type) {
    case 0:
      if (h.server_name.length != 0)
        add(to, "tls.handshake.extensions_server_name", "Server Name", text_of(b, h.server_name),
            base + h.server_name.at, h.server_name.length);
      return;
    case 10:
      return add_u16s(to, b, h.supported_groups, base, "tls.handshake.extensions_supported_group",
                      "Supported Group", group_name);
    case 16:
      for (std::uint32_t p = h.alpn.at; p < h.alpn.at + h.alpn.length && p + 1u + b[p] <= b.size();
           p += 1u + b[p])
        add(to, "tls.handshake.extensions_alpn_str", "ALPN Next Protocol",
            text_of(b, {p + 1, b[p]}), base + p + 1, b[p]);
      return;
    case 43:
      if (client)
        return add_u16s(to, b, h.supported_versions, base,
                        "tls.handshake.extensions.supported_version", "Supported Version",
                        version_name);
      if (h.selected_version != 0)
        add(to, "tls.handshake.extensions.supported_version", "Supported Version",
            hex(h.selected_version, 4), 0, 0, std::string(version_name(h.selected_version)));
      return;
    case 51:
      if (client) {
        for (std::uint32_t p = h.key_shares.at;
             p < h.key_shares.at + h.key_shares.length && p + 4 <= b.size();
             p += 4u + be16(&b[p + 2]))
          add(to, "tls.handshake.extensions_key_share_group", "Group", decimal(be16(&b[p])),
              base + p, 2, std::string(group_name(be16(&b[p]))));
      } else if (h.key_share_group != 0) {
        add(to, "tls.handshake.extensions_key_share_group", "Group", decimal(h.key_share_group), 0,
            0, std::string(group_name(h.key_share_group)));
      }
      return;
  }
}

// The hello's fields under its handshake field; `base` is the segment's absolute offset.
void describe_hello(const TlsHello& h, std::span<const std::uint8_t> b, std::uint32_t base,
                    std::vector<Field>& to) {
  if (h.random_at == 0) return;
  const std::uint32_t at = h.random_at - 2;
  add(to, "tls.handshake.version", "Version", hex(h.version, 4), base + at, 2,
      std::string(version_name(h.version)));
  add(to, "tls.handshake.random", "Random", wire::colon_hex(b.subspan(h.random_at, 32)),
      base + h.random_at, 32);
  if (h.session_id.at == 0) return;
  add(to, "tls.handshake.session_id_length", "Session ID Length", decimal(h.session_id.length),
      base + h.session_id.at - 1, 1);
  if (h.session_id.length != 0)
    add(to, "tls.handshake.session_id", "Session ID",
        wire::colon_hex(b.subspan(h.session_id.at, h.session_id.length)), base + h.session_id.at,
        h.session_id.length);
  if (h.type == kClientHello) {
    if (h.cipher_suites.at == 0) return;
    add(to, "tls.handshake.cipher_suites_length", "Cipher Suites Length",
        decimal(h.cipher_suites.length), base + h.cipher_suites.at - 2, 2,
        decimal(h.cipher_suite_count()) + " suites");
    add_u16s(to, b, h.cipher_suites, base, "tls.handshake.ciphersuite", "Cipher Suite",
             cipher_suite_name);
    if (h.compression_methods.at == 0) return;
    add(to, "tls.handshake.comp_methods_length", "Compression Methods Length",
        decimal(h.compression_methods.length), base + h.compression_methods.at - 1, 1);
  } else {
    if (h.compression_methods.at == 0) return;
    add(to, "tls.handshake.ciphersuite", "Cipher Suite", hex(h.cipher_suite, 4),
        base + h.compression_methods.at - 2, 2, std::string(cipher_suite_name(h.cipher_suite)));
  }
  if (h.extensions.at == 0) return;
  add(to, "tls.handshake.extensions_length", "Extensions Length", decimal(h.extensions.length),
      base + h.extensions.at - 2, 2);
  // The extensions as far as they were captured, each whole.
  const std::uint32_t end = std::min<std::uint32_t>(h.extensions.at + h.extensions.length,
                                                    static_cast<std::uint32_t>(b.size()));
  for (std::uint32_t q = h.extensions.at; q + 4 <= end && q + 4u + be16(&b[q + 2]) <= end;
       q += 4u + be16(&b[q + 2])) {
    const std::uint16_t type = be16(&b[q]), n = be16(&b[q + 2]);
    const auto name = extension_name(type);
    auto& e = add(to, "tls.handshake.extension", "Extension",
                  (name.empty() ? "Unknown type " + decimal(type) : std::string(name)) +
                      " (len=" + decimal(n) + ")",
                  base + q, 4u + n);
    add(e.children, "tls.handshake.extension.type", "Type", decimal(type), base + q, 2,
        std::string(name));
    add(e.children, "tls.handshake.extension.len", "Length", decimal(n), base + q + 2, 2);
    describe_extension(h, b, type, base, e.children);
  }
}

// The names of the handshake messages in a record as far as captured, as tshark lists them.
std::string handshake_names(const TlsMessage& m, std::span<const std::uint8_t> b,
                            const TlsRecord& r) {
  const std::uint32_t end = std::min<std::uint32_t>(r.at + TlsRecord::kHeaderLength + r.length,
                                                    static_cast<std::uint32_t>(b.size()));
  std::string s;
  for (std::uint32_t p = r.at + TlsRecord::kHeaderLength; p + 4 <= end;) {
    const auto name = handshake_type_name(b[p]);
    const std::uint32_t n =
        (std::uint32_t{b[p + 1]} << 16) | (std::uint32_t{b[p + 2]} << 8) | b[p + 3];
    if (name.empty() || p + 4 + n > r.at + TlsRecord::kHeaderLength + r.length)
      return s.empty() ? "Encrypted Handshake Message" : s;
    if (!s.empty()) s += ", ";
    s += name;
    if (p == m.hello.at && m.hello.type == kClientHello && m.hello.server_name.length != 0)
      s += " (SNI=" + text_of(b, m.hello.server_name) + ")";
    p += 4 + n;
  }
  return s.empty() ? "Handshake" : s;
}

}  // namespace

void describe(const TlsMessage& m, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = "TLS";
  out.layer = dissect::Layer::application;
  out.offset = offset;
  out.length = static_cast<std::uint32_t>(bytes.size());
  out.problem = dissect::to_string(m.problem);
  dissect::CapturedFields field(out, offset, bytes.size());
  if (m.continuation) {
    field("tls.continuation_data", "Continuation Data", decimal(bytes.size()) + " bytes", 0,
          static_cast<std::uint32_t>(bytes.size()));
    return;
  }
  for (std::uint8_t i = 0; i < m.record_count; ++i) {
    const TlsRecord& r = m.records[i];
    const auto type = content_type_name(r.content_type);
    const std::uint32_t captured = std::min<std::uint32_t>(
        TlsRecord::kHeaderLength + r.length, static_cast<std::uint32_t>(bytes.size()) - r.at);
    auto* f = field("tls.record", "TLS Record Layer",
                    std::string(version_name(r.version)) + " Record Layer: " + std::string(type),
                    r.at, captured);
    if (f == nullptr) continue;
    const std::uint32_t at = offset + r.at;
    add(f->children, "tls.record.content_type", "Content Type", decimal(r.content_type), at, 1,
        std::string(type));
    add(f->children, "tls.record.version", "Version", hex(r.version, 4), at + 1, 2,
        std::string(version_name(r.version)));
    add(f->children, "tls.record.length", "Length", decimal(r.length), at + 3, 2);
    const std::uint32_t body = r.at + TlsRecord::kHeaderLength;
    if (r.content_type != kHandshake || body + 4 > bytes.size()) continue;
    const bool hello = m.hello.type != 0 && m.hello.at == body;
    const std::uint8_t hs_type = bytes[body];
    if (!hello && handshake_type_name(hs_type).empty()) continue;  // encrypted
    auto& h = add(f->children, "tls.handshake", "Handshake Protocol",
                  std::string(handshake_type_name(hs_type)), at + 5, captured - 5);
    add(h.children, "tls.handshake.type", "Handshake Type", decimal(hs_type), at + 5, 1,
        std::string(handshake_type_name(hs_type)));
    const std::uint32_t n = (std::uint32_t{bytes[body + 1]} << 16) |
                            (std::uint32_t{bytes[body + 2]} << 8) | bytes[body + 3];
    add(h.children, "tls.handshake.length", "Length", decimal(n), at + 6, 3);
    if (hello) describe_hello(m.hello, bytes, offset, h.children);
  }
}

std::string summary(const TlsMessage& m, std::span<const std::uint8_t> bytes) {
  if (m.continuation) return "Continuation Data";
  std::string s;
  bool encrypted = false;
  for (std::uint8_t i = 0; i < m.record_count; ++i) {
    const TlsRecord& r = m.records[i];
    if (!s.empty()) s += ", ";
    switch (r.content_type) {
      case kChangeCipherSpec:
        encrypted = true;
        s += "Change Cipher Spec";
        break;
      case kAlert:
        s += encrypted || r.length != 2 ? "Encrypted Alert" : "Alert";
        break;
      case kHandshake:
        s += encrypted ? "Encrypted Handshake Message" : handshake_names(m, bytes, r);
        break;
      default:
        s += content_type_name(r.content_type);
    }
  }
  if (m.records_seen > m.record_count) s += ", ...";
  return s.empty() ? "TLS" : s;
}

}  // namespace duplex::tls
