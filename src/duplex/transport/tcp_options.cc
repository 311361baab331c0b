// The TCP options (RFC 9293 3.2, 7323, 2018): the walk over their bytes, their fields as
// Wireshark shows them and tcpdump's text of them.
#include <string_view>

#include "duplex/base/wire.h"
#include "duplex/transport/internal/tcp_options.h"
#include "duplex/transport/tcp_header.h"

namespace duplex::transport {
namespace {

using dissect::add;
using dissect::decimal;
using dissect::Problem;
using wire::be16;
using wire::be32;

// An option kind's names: Wireshark's key suffix (tcp.options.<key>) and label, tcpdump's
// word, and the length the kind must have (0: any).
struct OptionName {
  std::uint8_t kind;
  const char* key;
  const char* label;
  const char* tcpdump;
  std::uint8_t length;
};
constexpr OptionName kOptionNames[] = {
    {kTcpOptionEol, "eol", "End of Option List (EOL)", "eol", 1},
    {kTcpOptionNop, "nop", "No-Operation (NOP)", "nop", 1},
    {kTcpOptionMss, "mss", "Maximum segment size", "mss", 4},
    {kTcpOptionWindowScale, "wscale", "Window scale", "wscale", 3},
    {kTcpOptionSackPermitted, "sack_perm", "SACK permitted", "sackOK", 2},
    {kTcpOptionSack, "sack", "SACK", "sack", 0},
    {kTcpOptionTimestamps, "timestamp", "Timestamps", "TS", 10},
    {19, "md5", "TCP MD5 signature", "md5", 18},
    {28, "user_to", "User Timeout", "uto", 4},
    {29, "ao", "TCP AO", "tcp-ao", 0},
    {30, "mptcp", "Multipath TCP", "mptcp", 0},
    {34, "tfo", "TCP Fast Open", "tfo", 0},
    {253, "experimental", "Experimental", "unknown-253", 0},
    {254, "experimental", "Experimental", "exp", 0},
};

const OptionName* option_name(std::uint8_t kind) noexcept {
  for (const auto& n : kOptionNames)
    if (n.kind == kind) return &n;
  return nullptr;
}

// A decoded kind whose length is not the one it must have ("mss" of length 2).
bool wrong_length(const TcpOption& o) noexcept {
  if (o.kind == kTcpOptionSack) return o.length < 10 || (o.length - 2) % 8 != 0;
  const auto* n = option_name(o.kind);
  return n != nullptr && n->length != 0 && n->length != o.length;
}

// The walk stopped at a length it could not trust: past this point nothing was read.
bool walk_stopped(const TcpHeader& h) noexcept {
  if (h.problem.kind != Problem::Kind::malformed || h.problem.at < TcpHeader::kMinLength)
    return false;
  if (h.option_count == 0) return true;
  const TcpOption& last = h.options[h.option_count - 1];
  return h.problem.at >= std::uint32_t{last.at} + last.length;
}

// Reads a well-formed option of a kind the codec decodes; `body` is the whole option.
void decode_option(std::span<const std::uint8_t> body, TcpHeader& h) noexcept {
  switch (body[0]) {
    case kTcpOptionMss:
      h.has_mss = true;
      h.mss = be16(&body[2]);
      return;
    case kTcpOptionWindowScale:
      h.has_window_scale = true;
      h.window_scale = body[2];
      return;
    case kTcpOptionSackPermitted:
      h.sack_permitted = true;
      return;
    case kTcpOptionSack:
      for (std::size_t i = 2; i + 8 <= body.size() && h.sack_count < TcpHeader::kMaxSackBlocks;
           i += 8)
        h.sack[h.sack_count++] = {be32(&body[i]), be32(&body[i + 4])};
      return;
    case kTcpOptionTimestamps:
      h.has_timestamps = true;
      h.ts_value = be32(&body[2]);
      h.ts_echo = be32(&body[6]);
      return;
  }
}

const char* wrong_length_what(std::uint8_t kind) noexcept {
  switch (kind) {
    case kTcpOptionMss:
      return "the MSS option's length is not 4";
    case kTcpOptionWindowScale:
      return "the window scale option's length is not 3";
    case kTcpOptionSackPermitted:
      return "the SACK-permitted option's length is not 2";
    case kTcpOptionSack:
      return "the SACK option's length is not 2 + 8 per block (1 to 4 blocks)";
    case kTcpOptionTimestamps:
      return "the timestamps option's length is not 10";
  }
  return "the option's length is not the one its kind has";
}

// The option that the snap length cut, at `pos` of the captured `bytes`: its kind, its
// length and the values whose bytes were captured, as tshark shows them.
void describe_cut_option(std::span<const std::uint8_t> bytes, std::uint32_t pos,
                         std::uint32_t offset, dissect::Field& options) {
  const auto rest = bytes.subspan(pos);
  const std::uint8_t kind = rest[0];
  const auto* name = option_name(kind);
  const std::uint32_t at = offset + pos;
  auto& f = add(options.children, std::string("tcp.options.") + (name ? name->key : "unknown"),
                name ? name->label : "Unknown", wire::colon_hex(rest), at,
                static_cast<std::uint32_t>(rest.size()), "cut by the snap length");
  add(f.children, "tcp.option_kind", "Kind", decimal(kind), at, 1, name ? name->label : "unknown");
  if (rest.size() < 2) return;
  add(f.children, "tcp.option_len", "Length", decimal(rest[1]), at + 1, 1);
  if (kind == kTcpOptionSack) {
    for (std::uint32_t b = 2; b + 4 <= rest.size() && b + 4 <= rest[1]; b += 8) {
      add(f.children, "tcp.options.sack_le", "TCP SACK Left Edge", decimal(be32(&rest[b])), at + b,
          4);
      if (b + 8 <= rest.size())
        add(f.children, "tcp.options.sack_re", "TCP SACK Right Edge", decimal(be32(&rest[b + 4])),
            at + b + 4, 4);
    }
  }
  if (kind == kTcpOptionTimestamps && rest[1] == 10 && rest.size() >= 6)
    add(f.children, "tcp.options.timestamp.tsval", "Timestamp value", decimal(be32(&rest[2])),
        at + 2, 4);
}

}  // namespace

std::string_view tcp_option_name(std::uint8_t kind) noexcept {
  const auto* n = option_name(kind);
  return n != nullptr ? n->label : "";
}

namespace detail {

void decode_tcp_options(std::span<const std::uint8_t> header, TcpHeader& h) noexcept {
  std::uint32_t pos = TcpHeader::kMinLength;
  const auto size = static_cast<std::uint32_t>(header.size());
  while (pos < size && h.option_count < TcpHeader::kMaxOptions) {
    TcpOption& o = h.options[h.option_count];
    o.kind = header[pos];
    o.at = static_cast<std::uint8_t>(pos);
    o.length = 1;
    if (o.kind == kTcpOptionEol || o.kind == kTcpOptionNop) {
      ++h.option_count;
      if (o.kind == kTcpOptionEol) return;  // what follows is padding
      ++pos;
      continue;
    }
    if (pos + 1 >= size) {
      h.problem = {Problem::Kind::malformed, "a TCP option's length byte is past the header", pos};
      return;
    }
    o.length = header[pos + 1];
    if (o.length < 2) {
      h.problem = {Problem::Kind::malformed, "a TCP option length is below 2", pos + 1};
      return;
    }
    if (pos + o.length > size) {
      h.problem = {Problem::Kind::malformed, "a TCP option's length runs past the header", pos + 1};
      return;
    }
    ++h.option_count;
    if (!wrong_length(o))
      decode_option(header.subspan(pos, o.length), h);
    else if (!h.problem)  // the length is wrong for the kind but still walks: go on
      h.problem = {Problem::Kind::malformed, wrong_length_what(o.kind), pos + 1};
    pos += o.length;
  }
}

void describe_tcp_options(const TcpHeader& h, std::span<const std::uint8_t> bytes,
                          std::uint32_t offset, dissect::Field& options) {
  for (std::uint8_t i = 0; i < h.option_count; ++i) {
    const TcpOption& o = h.options[i];
    const auto* name = option_name(o.kind);
    const auto body = bytes.subspan(o.at, o.length);
    const std::uint32_t at = offset + o.at;
    const bool sound = !wrong_length(o);
    std::string meaning;
    if (!sound) meaning = "malformed: length " + decimal(o.length);
    if (sound && o.kind == kTcpOptionMss) meaning = decimal(be16(&body[2])) + " bytes";
    auto& f = add(options.children, std::string("tcp.options.") + (name ? name->key : "unknown"),
                  name ? name->label : "Unknown", wire::colon_hex(body), at, o.length,
                  std::move(meaning));
    add(f.children, "tcp.option_kind", "Kind", decimal(o.kind), at, 1,
        name ? name->label : "unknown");
    if (o.length < 2) continue;
    add(f.children, "tcp.option_len", "Length", decimal(o.length), at + 1, 1);
    if (!sound) continue;
    switch (o.kind) {
      case kTcpOptionMss:
        add(f.children, "tcp.options.mss_val", "MSS Value", decimal(be16(&body[2])), at + 2, 2);
        break;
      case kTcpOptionWindowScale: {
        const std::uint8_t shift = body[2];
        add(f.children, "tcp.options.wscale.shift", "Shift count", decimal(shift), at + 2, 1,
            shift > 14 ? "above the maximum of 14 (RFC 7323)" : "");
        add(f.children, "tcp.options.wscale.multiplier", "Multiplier",
            decimal(1u << (shift > 14 ? 14 : shift)), at + 2, 1);
        break;
      }
      case kTcpOptionSack:
        for (std::uint32_t b = 2; b + 8 <= o.length; b += 8) {
          add(f.children, "tcp.options.sack_le", "TCP SACK Left Edge", decimal(be32(&body[b])),
              at + b, 4);
          add(f.children, "tcp.options.sack_re", "TCP SACK Right Edge", decimal(be32(&body[b + 4])),
              at + b + 4, 4);
        }
        add(f.children, "tcp.options.sack.count", "TCP SACK Count", decimal((o.length - 2) / 8u),
            at, 0);
        break;
      case kTcpOptionTimestamps:
        add(f.children, "tcp.options.timestamp.tsval", "Timestamp value", decimal(be32(&body[2])),
            at + 2, 4);
        add(f.children, "tcp.options.timestamp.tsecr", "Timestamp echo reply",
            decimal(be32(&body[6])), at + 6, 4);
        break;
      default:
        if (name == nullptr && o.length > 2)
          add(f.children, "tcp.options.unknown.payload", "Payload",
              wire::colon_hex(body.subspan(2)), at + 2, o.length - 2u);
    }
  }
  if (h.header_length != 0) return;
  // A header cut by the snap length: after the options captured whole, the one it cut.
  std::uint32_t pos = TcpHeader::kMinLength;
  if (h.option_count != 0) {
    const TcpOption& last = h.options[h.option_count - 1];
    if (last.kind == kTcpOptionEol) return;  // the rest is padding
    pos = std::uint32_t{last.at} + last.length;
  }
  if (pos < bytes.size()) describe_cut_option(bytes, pos, offset, options);
}

std::string tcp_options_text(const TcpHeader& h, std::span<const std::uint8_t> bytes,
                             std::uint32_t sack_base) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t i = 0; i < h.option_count; ++i) {
    const TcpOption& o = h.options[i];
    const auto* name = option_name(o.kind);
    const auto body = bytes.subspan(o.at, o.length);
    if (i != 0) s += ',';
    s += name ? name->tcpdump : "unknown-" + decimal(o.kind);
    if (wrong_length(o)) {
      s += o.kind == kTcpOptionSack ? " invalid sack" : "[len " + decimal(o.length) + "]";
      continue;
    }
    switch (o.kind) {
      case kTcpOptionMss:
        s += " " + decimal(be16(&body[2]));
        break;
      case kTcpOptionWindowScale:
        s += " " + decimal(body[2]);
        break;
      case kTcpOptionSack:
        s += " " + decimal((o.length - 2) / 8u) + " ";
        for (std::uint32_t b = 2; b + 8 <= o.length; b += 8)
          s += "{" + decimal(be32(&body[b]) - sack_base) + ":" +
               decimal(be32(&body[b + 4]) - sack_base) + "}";
        break;
      case kTcpOptionTimestamps:
        s += " val " + decimal(be32(&body[2])) + " ecr " + decimal(be32(&body[6]));
        break;
      default:
        if (name != nullptr || o.length <= 2) break;
        s += " 0x";  // tcpdump prints an unknown option's data in hex
        for (std::size_t b = 2; b < body.size(); ++b) {
          s += kDigits[body[b] >> 4];
          s += kDigits[body[b] & 0xf];
        }
    }
  }
  if (walk_stopped(h)) s += h.option_count != 0 ? ",[bad opt]" : "[bad opt]";
  return s;
}

}  // namespace detail
}  // namespace duplex::transport
