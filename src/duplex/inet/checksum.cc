#include "duplex/inet/checksum.h"

namespace duplex::inet {

std::uint32_t checksum_add(std::uint32_t sum, std::span<const std::uint8_t> bytes) noexcept {
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    sum += static_cast<std::uint32_t>(bytes[i] << 8 | bytes[i + 1]);
    if (sum & 0x80000000u) sum = (sum & 0xffff) + (sum >> 16);  // never overflows
  }
  if (i < bytes.size()) sum += static_cast<std::uint32_t>(bytes[i] << 8);
  return sum;
}

std::uint16_t checksum_fold(std::uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::uint32_t pseudo_header_sum(const Address& source, const Address& destination,
                                std::uint8_t protocol, std::uint32_t length) noexcept {
  std::uint32_t sum = checksum_add(0, {source.data(), source.size()});
  sum = checksum_add(sum, {destination.data(), destination.size()});
  // IPv4: zero, protocol, 16-bit length; IPv6: 32-bit length, three zero bytes, next header.
  // Both sum to the same 16-bit words (the length's high half is zero for IPv4).
  return sum + protocol + (length >> 16) + (length & 0xffff);
}

ChecksumStatus check_segment(std::span<const std::uint8_t> bytes, const PseudoHeader& ip) noexcept {
  if (bytes.size() < ip.length) return ChecksumStatus::unverified;
  const std::uint32_t pseudo = pseudo_header_sum(ip.source, ip.destination, ip.protocol, ip.length);
  return checksum_fold(checksum_add(pseudo, bytes.first(ip.length))) == 0 ? ChecksumStatus::good
                                                                          : ChecksumStatus::bad;
}

ChecksumStatus check_offloadable(std::span<const std::uint8_t> bytes, const PseudoHeader& ip,
                                 std::uint16_t stored) noexcept {
  const ChecksumStatus status = check_segment(bytes, ip);
  if (status != ChecksumStatus::bad) return status;
  // Linux fills in ~csum_tcpudp_magic(..., 0): the folded pseudo-header sum, not complemented.
  const std::uint32_t pseudo = pseudo_header_sum(ip.source, ip.destination, ip.protocol, ip.length);
  const auto folded = static_cast<std::uint16_t>(~checksum_fold(pseudo));
  return stored == folded ? ChecksumStatus::partial : status;
}

std::string_view meaning(ChecksumStatus status) noexcept {
  if (status != ChecksumStatus::partial) return "";
  return "only the pseudo-header's sum: the sender left the rest to the NIC (offload), as on "
         "lo and veth; tshark says bad, tcpdump -vv incorrect";
}

std::string_view to_string(ChecksumStatus status) noexcept {
  switch (status) {
    case ChecksumStatus::good:
      return "good";
    case ChecksumStatus::bad:
      return "bad";
    case ChecksumStatus::none:
      return "none";
    case ChecksumStatus::partial:
      return "unverified (partial, offloaded)";
    case ChecksumStatus::unverified:
      break;
  }
  return "unverified";
}

}  // namespace duplex::inet
