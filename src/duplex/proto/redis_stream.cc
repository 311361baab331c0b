#include "duplex/proto/redis_stream.h"

#include <charconv>

namespace duplex::redis {

namespace {

// A decimal as Redis writes it: digits only, no leading zero (so that an id parsed and
// printed again is the same text, and two texts never name one entry).
bool parse_part(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s.front() == '0')) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::optional<StreamId> StreamId::parse(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  StreamId id;
  if (!parse_part(text.substr(0, dash), id.ms) || !parse_part(text.substr(dash + 1), id.seq))
    return std::nullopt;
  return id;
}

StreamId StreamId::from_message_id(std::int64_t id) {
  const auto u = static_cast<std::uint64_t>(id < 0 ? 0 : id);
  return StreamId{u / kSeqPerMs, u % kSeqPerMs};
}

std::string StreamId::to_string() const { return std::to_string(ms) + "-" + std::to_string(seq); }

std::optional<std::int64_t> StreamId::message_id() const {
  constexpr std::uint64_t kExact = std::uint64_t{1} << 53;
  if (seq >= kSeqPerMs || ms >= kExact / kSeqPerMs) return std::nullopt;
  return static_cast<std::int64_t>(ms * kSeqPerMs + seq);
}

}  // namespace duplex::redis
