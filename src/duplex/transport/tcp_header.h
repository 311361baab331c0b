// Public. The TCP header (RFC 9293, AE from RFC 9768) as `duplex capture` reads it, strictly
// and without heap allocation (the convention of base/dissect.h):
//
//   source port(16) destination port(16) sequence(32) acknowledgment(32)
//   data offset(4) reserved(3) AE CWR ECE URG ACK PSH RST SYN FIN window(16) checksum(16)
//   urgent pointer(16) options(data offset * 4 - 20)
//   options: EOL (0), NOP (1), or kind(8) length(8) data: MSS (2), window scale (3),
//   SACK-permitted (4), SACK (5), timestamps (8), others kept with their kind and length.
//
// The codec is stateless: sequence and acknowledgment numbers are the raw ones on the wire
// (tshark's tcp.seq_raw, `tcpdump -S`), never relative to a connection's first segment.
// The checksum needs the IP layer's addresses: decode with an inet::PseudoHeader to check it.
// All functions are safe to call from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "duplex/base/dissect.h"
#include "duplex/inet/checksum.h"

namespace duplex::transport {

// The flag bits of the 16-bit word at byte 12, as on the wire (AE was NS, RFC 3540).
enum TcpFlag : std::uint16_t {
  kTcpFin = 0x001,
  kTcpSyn = 0x002,
  kTcpRst = 0x004,
  kTcpPsh = 0x008,
  kTcpAck = 0x010,
  kTcpUrg = 0x020,
  kTcpEce = 0x040,
  kTcpCwr = 0x080,
  kTcpAe = 0x100,
};

// The option kinds the codec decodes.
inline constexpr std::uint8_t kTcpOptionEol = 0;
inline constexpr std::uint8_t kTcpOptionNop = 1;
inline constexpr std::uint8_t kTcpOptionMss = 2;
inline constexpr std::uint8_t kTcpOptionWindowScale = 3;
inline constexpr std::uint8_t kTcpOptionSackPermitted = 4;
inline constexpr std::uint8_t kTcpOptionSack = 5;
inline constexpr std::uint8_t kTcpOptionTimestamps = 8;

// One option: its kind, its length (1 for EOL and NOP) and where it starts in the header.
struct TcpOption {
  std::uint8_t kind = 0;
  std::uint8_t length = 0;
  std::uint8_t at = 0;
};

// One SACK block: the left edge and the right edge (one past the last byte) it acknowledges.
struct SackBlock {
  std::uint32_t left = 0;
  std::uint32_t right = 0;
};

struct TcpHeader {
  static constexpr std::uint32_t kMinLength = 20;
  static constexpr std::size_t kMaxOptions = 40;  // 40 option bytes, one byte each at least
  static constexpr std::size_t kMaxSackBlocks = 4;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t sequence = 0;
  std::uint32_t acknowledgment = 0;
  std::uint8_t data_offset = 0;  // in 32-bit words
  std::uint8_t reserved = 0;     // the 3 bits before AE
  std::uint16_t flags = 0;       // TcpFlag bits
  std::uint16_t window = 0;      // as on the wire, before any window scaling
  std::uint16_t checksum = 0;
  inet::ChecksumStatus checksum_status = inet::ChecksumStatus::unverified;
  std::uint16_t urgent_pointer = 0;
  std::array<TcpOption, kMaxOptions> options{};
  std::uint8_t option_count = 0;

  // The options that were present and well formed, decoded.
  bool has_mss = false;
  std::uint16_t mss = 0;
  bool has_window_scale = false;
  std::uint8_t window_scale = 0;  // the shift count
  bool sack_permitted = false;
  std::array<SackBlock, kMaxSackBlocks> sack{};
  std::uint8_t sack_count = 0;
  bool has_timestamps = false;
  std::uint32_t ts_value = 0;
  std::uint32_t ts_echo = 0;

  std::uint32_t header_length = 0;   // data offset * 4 once the header is whole; 0 before
  std::uint32_t segment_length = 0;  // the segment's length on the wire (header and payload)
  // The payload starts at header_length; its length on the wire (tshark's tcp.len, tcpdump's
  // "length") and the part of it that was captured.
  std::uint32_t payload_length = 0;
  std::uint32_t payload_captured = 0;
  dissect::Problem problem;

  bool has(TcpFlag flag) const noexcept { return (flags & flag) != 0; }
};

// `bytes` is the segment as captured; `length` its length on the wire (the IP payload
// length), 0 meaning `bytes` is the whole segment. The checksum stays unverified.
TcpHeader decode_tcp(std::span<const std::uint8_t> bytes, std::uint32_t length = 0) noexcept;
// The same, with the checksum checked over `ip` (its length is the segment's on the wire).
TcpHeader decode_tcp(std::span<const std::uint8_t> bytes, const inet::PseudoHeader& ip) noexcept;
// "TCP" with tcp.srcport, tcp.dstport, tcp.seq_raw, tcp.ack_raw, tcp.hdr_len, tcp.flags
// (tcp.flags.res, .ae, .cwr, .ece, .urg, .ack, .push, .reset, .syn, .fin, .str),
// tcp.window_size_value, tcp.checksum, tcp.checksum.status, tcp.urgent_pointer, tcp.options
// (one tcp.options.<name> per option, with tcp.option_kind, tcp.option_len, mss_val,
// wscale.shift, sack_le/sack_re, timestamp.tsval/tsecr) and tcp.len.
void describe(const TcpHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out);
// As `tcpdump -nn -S` after the ports: "Flags [S.], seq 1, ack 2, win 65535, options [mss
// 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0"; "[|tcp]" when the header was cut.
// A caller that tracks connections may pass `h` with relative sequence and acknowledgment
// numbers (as tcpdump without -S): the SACK edges are then shown relative to the
// acknowledgment's base too, as tcpdump shows them.
std::string summary(const TcpHeader& h, std::span<const std::uint8_t> bytes);
// tcpdump's flag letters: "S.", "P.", "FSRP.UEW", "none" when no flag is set (AE has none).
std::string tcp_flags_text(std::uint16_t flags);
// Wireshark's name of an option kind, "Maximum segment size"...; "" when unknown.
std::string_view tcp_option_name(std::uint8_t kind) noexcept;

}  // namespace duplex::transport
