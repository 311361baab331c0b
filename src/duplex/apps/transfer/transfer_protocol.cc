#include "duplex/apps/transfer/transfer_protocol.h"

#include <nlohmann/json.hpp>

#include "duplex/base/error.h"
#include "duplex/base/strings.h"
#include "duplex/base/wire.h"
#include "duplex/reactor/buffer.h"

namespace duplex::transfer {
namespace {

using nlohmann::json;

bool known(char type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kOffer:
    case FrameType::kReply:
    case FrameType::kFile:
    case FrameType::kEnd:
    case FrameType::kDone:
    case FrameType::kError:
    case FrameType::kKeepAlive:
      return true;
  }
  return false;
}

json parse_object(std::string_view text, const char* what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw ParseError(std::string(what) + " is not a JSON object");
  return j;
}

std::uint64_t get_uint(const json& j, const char* key, const char* what,
                       std::uint64_t max = UINT64_MAX) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned())
    throw ParseError(std::string(what) + ": \"" + key + "\" is missing or not a whole number");
  const auto v = it->get<std::uint64_t>();
  if (v > max) throw ParseError(std::string(what) + ": \"" + key + "\" is out of range");
  return v;
}

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool is_hex_digest(const std::string& s) {
  if (s.size() != 2 * kDigest) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::uint64_t Offer::total_bytes() const noexcept {
  std::uint64_t total = 0;
  for (const auto& e : entries) total += e.size;
  return total;
}

std::size_t Offer::files() const noexcept {
  std::size_t n = 0;
  for (const auto& e : entries) n += e.dir ? 0 : 1;
  return n;
}

std::string encode_frame(FrameType type, std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeader + payload.size());
  out.push_back(static_cast<char>(type));
  put_be(out, payload.size(), 4);
  out.append(payload);
  return out;
}

std::optional<Frame> take_frame(Buffer& in) {
  if (in.readable_bytes() == 0) return std::nullopt;
  const char type = in.peek()[0];
  if (!known(type))
    throw ParseError("the peer does not speak duplex transfer (it began with " +
                     quote(in.view().substr(0, 40)) + ")");
  if (in.readable_bytes() < kFrameHeader) return std::nullopt;
  const std::uint32_t length = wire::be32(reinterpret_cast<const std::uint8_t*>(in.peek() + 1));
  if (length > kMaxPayload)
    throw ParseError("a frame of " + std::to_string(length) + " bytes is past the limit of " +
                     std::to_string(kMaxPayload));
  if (in.readable_bytes() < kFrameHeader + length) return std::nullopt;
  Frame f;
  f.type = static_cast<FrameType>(type);
  f.payload.assign(in.peek() + kFrameHeader, length);
  in.retrieve(kFrameHeader + length);
  return f;
}

std::optional<std::string> path_problem(std::string_view path) {
  if (path.empty()) return "the path is empty";
  if (path.size() > kMaxPath)
    return "the path is longer than " + std::to_string(kMaxPath) + " bytes";
  if (path.front() == '/') return "the path is absolute";
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, slash - start);
    if (part.empty()) return "the path has an empty component";
    if (part == "." || part == "..")
      return "the path has a \"" + std::string(part) + "\" component";
    if (part.size() > 255) return "a component of the path is longer than 255 bytes";
    for (char ch : part) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7f) return "the path has a control character";
    }
    start = slash + 1;
  }
  return std::nullopt;
}

std::string encode_offer(const Offer& offer) {
  json entries = json::array();
  for (const auto& e : offer.entries)
    entries.push_back(
        {{"path", e.path}, {"size", e.size}, {"mode", e.mode}, {"mtime", e.mtime}, {"dir", e.dir}});
  return json{{"protocol", "duplex-transfer"}, {"version", 1}, {"entries", std::move(entries)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

Offer decode_offer(std::string_view text) {
  const json j = parse_object(text, "the offer");
  const auto protocol = j.find("protocol");
  if (protocol == j.end() || *protocol != "duplex-transfer")
    throw ParseError("the offer does not name the protocol duplex-transfer");
  if (get_uint(j, "version", "the offer") != 1)
    throw ParseError("the offer is of protocol version " + j["version"].dump() +
                     "; this duplex speaks version 1 (update the older side)");
  const auto entries = j.find("entries");
  if (entries == j.end() || !entries->is_array())
    throw ParseError("the offer has no \"entries\" array");
  if (entries->size() > kMaxEntries)
    throw ParseError("the offer has more than " + std::to_string(kMaxEntries) + " entries");
  Offer offer;
  std::uint64_t total = 0;
  offer.entries.reserve(entries->size());
  for (const auto& item : *entries) {
    const std::string what = "offer entry " + std::to_string(offer.entries.size() + 1);
    if (!item.is_object()) throw ParseError(what + " is not an object");
    Entry e;
    const auto path = item.find("path");
    if (path == item.end() || !path->is_string()) throw ParseError(what + " has no \"path\"");
    e.path = path->get<std::string>();
    if (auto problem = path_problem(e.path))
      throw ParseError("the offer's path " + quote(e.path) + " is refused: " + *problem);
    e.size = get_uint(item, "size", what.c_str(), std::uint64_t{1} << 62);
    e.mode = static_cast<std::uint32_t>(get_uint(item, "mode", what.c_str(), 07777));
    const auto mtime = item.find("mtime");
    if (mtime == item.end() || !mtime->is_number_integer())
      throw ParseError(what + ": \"mtime\" is missing or not a whole number");
    e.mtime = mtime->get<std::int64_t>();
    const auto dir = item.find("dir");
    if (dir == item.end() || !dir->is_boolean())
      throw ParseError(what + ": \"dir\" is not true or false");
    e.dir = dir->get<bool>();
    if (e.dir && e.size != 0) throw ParseError(what + " is a directory with a size");
    total += e.size;
    if (total > kMaxTotal) throw ParseError("the offer's sizes add up past 2^62 bytes");
    offer.entries.push_back(std::move(e));
  }
  return offer;
}

std::string encode_reply(const Reply& reply) {
  json have = json::array();
  for (const auto& h : reply.have)
    have.push_back({{"bytes", h.bytes}, {"sha256", h.sha256}, {"complete", h.complete}});
  return json{{"have", std::move(have)}}.dump();
}

Reply decode_reply(std::string_view text, std::size_t entries) {
  const json j = parse_object(text, "the reply");
  const auto have = j.find("have");
  if (have == j.end() || !have->is_array() || have->size() != entries)
    throw ParseError("the reply does not have one \"have\" per offered entry (" +
                     std::to_string(entries) + ")");
  Reply reply;
  reply.have.reserve(entries);
  for (const auto& item : *have) {
    if (!item.is_object()) throw ParseError("a \"have\" of the reply is not an object");
    Have h;
    h.bytes = get_uint(item, "bytes", "the reply");
    const auto sha = item.find("sha256");
    const auto complete = item.find("complete");
    if (sha == item.end() || !sha->is_string() || complete == item.end() || !complete->is_boolean())
      throw ParseError("a \"have\" of the reply lacks \"sha256\" or \"complete\"");
    h.sha256 = sha->get<std::string>();
    h.complete = complete->get<bool>();
    if (h.bytes > 0 && !is_hex_digest(h.sha256))
      throw ParseError("a \"sha256\" of the reply is not 64 lower-case hex digits");
    reply.have.push_back(std::move(h));
  }
  return reply;
}

std::string encode_file_header(const FileHeader& h) {
  std::string out;
  put_be(out, h.index, 4);
  put_be(out, h.offset, 8);
  return out;
}

FileHeader decode_file_header(std::string_view payload) {
  if (payload.size() != 12)
    throw ParseError("a File frame of " + std::to_string(payload.size()) + " bytes (12 expected)");
  const auto* p = reinterpret_cast<const std::uint8_t*>(payload.data());
  FileHeader h;
  h.index = wire::be32(p);
  h.offset = (std::uint64_t{wire::be32(p + 4)} << 32) | wire::be32(p + 8);
  return h;
}

std::string encode_done(const Done& done) {
  return json{{"files", done.files}, {"bytes", done.bytes}, {"skipped", done.skipped}}.dump();
}

Done decode_done(std::string_view text) {
  const json j = parse_object(text, "the receiver's confirmation");
  Done d;
  d.files = get_uint(j, "files", "the confirmation");
  d.bytes = get_uint(j, "bytes", "the confirmation");
  d.skipped = get_uint(j, "skipped", "the confirmation");
  return d;
}

std::string printable(std::string_view text, std::size_t max) {
  bool cut = false;
  std::string out = escape(text, max, &cut);
  if (cut) out.append("...");
  return out;
}

std::string to_hex(const std::array<unsigned char, kDigest>& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * kDigest);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace duplex::transfer
