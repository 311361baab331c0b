#include "duplex/transport/udp_header.h"

#include <algorithm>
#include <array>

#include "duplex/base/captured_fields.h"
#include "duplex/base/wire.h"

namespace duplex::transport {
namespace {

using dissect::decimal;
using dissect::hex;
using dissect::Problem;
using wire::be16;

// RFC 2675: a jumbogram's UDP length is 0 and the IP payload length (above 65535) counts.
bool is_jumbogram(const UdpHeader& h) noexcept {
  return h.length == 0 && h.ip_payload_length > 0xffff;
}

}  // namespace

UdpHeader decode_udp(std::span<const std::uint8_t> bytes,
                     std::uint32_t ip_payload_length) noexcept {
  UdpHeader h;
  if (ip_payload_length == 0) ip_payload_length = static_cast<std::uint32_t>(bytes.size());
  if (bytes.size() > ip_payload_length) bytes = bytes.first(ip_payload_length);
  const auto captured = static_cast<std::uint32_t>(bytes.size());
  h.ip_payload_length = ip_payload_length;
  // Read from a zero-padded copy, so that a truncated header keeps what it had.
  std::array<std::uint8_t, UdpHeader::kLength> b{};
  std::copy_n(bytes.begin(), std::min<std::size_t>(bytes.size(), b.size()), b.begin());
  h.source_port = be16(&b[0]);
  h.destination_port = be16(&b[2]);
  h.length = be16(&b[4]);
  h.checksum = be16(&b[6]);
  if (ip_payload_length < UdpHeader::kLength) {
    h.problem = {Problem::Kind::malformed,
                 "the IP payload is shorter than the 8 bytes of a UDP header", 0};
    return h;
  }
  if (captured >= 6 && h.length < UdpHeader::kLength && !is_jumbogram(h)) {
    h.problem = {Problem::Kind::malformed, "the UDP length is below 8", 4};
    return h;
  }
  if (captured >= 6 && h.length > ip_payload_length) {
    h.problem = {Problem::Kind::malformed, "the UDP length runs past the IP payload", 4};
    return h;
  }
  if (captured < UdpHeader::kLength) {
    h.problem = {Problem::Kind::truncated, "the UDP header needs 8 bytes", captured};
    return h;
  }
  const std::uint32_t length = is_jumbogram(h) ? ip_payload_length : h.length;
  h.header_length = UdpHeader::kLength;
  h.payload_length = length - UdpHeader::kLength;
  h.payload_captured = std::min(captured, length) - UdpHeader::kLength;
  return h;
}

UdpHeader decode_udp(std::span<const std::uint8_t> bytes, const inet::PseudoHeader& ip) noexcept {
  UdpHeader h = decode_udp(bytes, ip.length);
  if (h.header_length == 0) return h;
  if (h.checksum == 0) {
    h.checksum_status = ip.source.is_v4() ? inet::ChecksumStatus::none : inet::ChecksumStatus::bad;
    return h;
  }
  inet::PseudoHeader datagram = ip;  // the checksum covers the UDP length, not any padding
  datagram.length = h.header_length + h.payload_length;
  h.checksum_status = inet::check_offloadable(bytes, datagram, h.checksum);
  return h;
}

void describe(const UdpHeader& h, std::span<const std::uint8_t> bytes, std::uint32_t offset,
              dissect::Header& out) {
  out.protocol = "UDP";
  out.layer = dissect::Layer::transport;
  out.offset = offset;
  if (bytes.size() > h.ip_payload_length) bytes = bytes.first(h.ip_payload_length);
  out.length =
      std::min<std::uint32_t>(static_cast<std::uint32_t>(bytes.size()), UdpHeader::kLength);
  out.problem = dissect::to_string(h.problem);
  dissect::CapturedFields field(out, offset, bytes.size());
  field("udp.srcport", "Source Port", decimal(h.source_port), 0, 2);
  field("udp.dstport", "Destination Port", decimal(h.destination_port), 2, 2);
  std::string meaning;
  if (h.header_length != 0) meaning = "payload " + decimal(h.payload_length) + " bytes";
  if (is_jumbogram(h)) meaning = "a jumbogram (RFC 2675): the IP payload length counts";
  field("udp.length", "Length", decimal(h.length), 4, 2, std::move(meaning));
  if (field("udp.checksum", "Checksum", hex(h.checksum, 4), 6, 2))
    field("udp.checksum.status", "Checksum Status", std::string(to_string(h.checksum_status)), 6, 0,
          std::string(inet::meaning(h.checksum_status)));
}

std::string summary(const UdpHeader& h) {
  if (h.problem.kind == Problem::Kind::malformed && h.problem.at == 4) {
    if (h.length > h.ip_payload_length)
      return "UDP, bad length " + decimal(h.length - 8u) + " > " +
             decimal(h.ip_payload_length - 8u);
    return "truncated-udplength " + decimal(h.length);  // tcpdump's words, without a space
  }
  if (h.header_length == 0) return "[|udp]";
  return "UDP, length " + decimal(h.payload_length);
}

}  // namespace duplex::transport
