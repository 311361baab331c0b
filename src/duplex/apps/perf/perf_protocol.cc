#include "duplex/apps/perf/perf_protocol.h"

#include <sys/random.h>

#include <cmath>
#include <limits>

#include "duplex/base/error.h"
#include "duplex/base/wire.h"

namespace duplex::apps::perf {
namespace {

constexpr std::string_view kCookieAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

// A non-negative integer at `key`, or `fallback` when absent. iperf3 writes every number
// through cJSON, so an integer may come as a double ("1e+06"); a negative or fractional one,
// a string, or one past `hi` is bad input.
std::uint64_t get_uint(const nlohmann::json& j, const char* key, std::uint64_t lo, std::uint64_t hi,
                       std::uint64_t fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  std::uint64_t value = 0;
  if (it->is_number_unsigned()) {
    value = it->get<std::uint64_t>();
  } else if (it->is_number_integer()) {
    const std::int64_t v = it->get<std::int64_t>();
    if (v < 0) throw ParseError(std::string("parameter '") + key + "' is negative");
    value = static_cast<std::uint64_t>(v);
  } else if (it->is_number_float()) {
    const double d = it->get<double>();
    if (!(d >= 0) || d != std::floor(d) || d > 1.8e19)
      throw ParseError(std::string("parameter '") + key + "' is not a whole number");
    value = static_cast<std::uint64_t>(d);
  } else if (it->is_boolean()) {
    value = it->get<bool>() ? 1 : 0;
  } else {
    throw ParseError(std::string("parameter '") + key + "' is not a number");
  }
  if (value < lo || value > hi) {
    throw ParseError(std::string("parameter '") + key + "' " + std::to_string(value) +
                     " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return value;
}

// iperf3 sends -1 ("none") through an unsigned conversion: 18446744073709551615, or
// 1.8446744073709552e+19 once parsed as a double. Anything that is not a sane count is -1.
std::int64_t get_count(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw ParseError(std::string("results lack '") + key + "'");
  if (it->is_number_integer() && !it->is_number_unsigned()) return it->get<std::int64_t>();
  if (it->is_number_unsigned()) {
    const std::uint64_t v = it->get<std::uint64_t>();
    return v > (1ull << 62) ? -1 : static_cast<std::int64_t>(v);
  }
  if (it->is_number_float()) {
    const double d = it->get<double>();
    return (d >= 0 && d < 4.6e18) ? static_cast<std::int64_t>(d) : -1;
  }
  throw ParseError(std::string("results: '") + key + "' is not a number");
}

double get_double(const nlohmann::json& j, const char* key, double fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_number()) throw ParseError(std::string("results: '") + key + "' is not a number");
  return it->get<double>();
}

std::string get_string(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (!it->is_string()) throw ParseError(std::string("'") + key + "' is not a string");
  return it->get<std::string>();
}

}  // namespace

std::string state_name(std::int8_t state) {
  switch (static_cast<State>(state)) {
    case State::kTestStart:
      return "TEST_START";
    case State::kTestRunning:
      return "TEST_RUNNING";
    case State::kTestEnd:
      return "TEST_END";
    case State::kParamExchange:
      return "PARAM_EXCHANGE";
    case State::kCreateStreams:
      return "CREATE_STREAMS";
    case State::kServerTerminate:
      return "SERVER_TERMINATE";
    case State::kClientTerminate:
      return "CLIENT_TERMINATE";
    case State::kExchangeResults:
      return "EXCHANGE_RESULTS";
    case State::kDisplayResults:
      return "DISPLAY_RESULTS";
    case State::kIperfStart:
      return "IPERF_START";
    case State::kIperfDone:
      return "IPERF_DONE";
    case State::kAccessDenied:
      return "ACCESS_DENIED";
    case State::kServerError:
      return "SERVER_ERROR";
  }
  return "unknown state " + std::to_string(state);
}

std::string make_cookie() {
  unsigned char random[kCookieSize - 1];
  std::size_t got = 0;
  while (got < sizeof random) {
    const ssize_t n = ::getrandom(random + got, sizeof random - got, 0);
    if (n < 0) throw Error("getrandom failed: the kernel gave no random bytes for the cookie");
    got += static_cast<std::size_t>(n);
  }
  std::string cookie;
  cookie.reserve(kCookieSize);
  for (unsigned char b : random) cookie.push_back(kCookieAlphabet[b % kCookieAlphabet.size()]);
  cookie.push_back('\0');
  return cookie;
}

bool is_cookie(std::string_view bytes) noexcept {
  if (bytes.size() != kCookieSize || bytes.back() != '\0') return false;
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    if (kCookieAlphabet.find(bytes[i]) == std::string_view::npos) return false;
  }
  return true;
}

bool is_cookie_prefix(std::string_view bytes) noexcept {
  if (bytes.size() > kCookieSize) return false;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i + 1 == kCookieSize) return bytes[i] == '\0';
    if (kCookieAlphabet.find(bytes[i]) == std::string_view::npos) return false;
  }
  return true;
}

std::string frame_json(const nlohmann::json& message) {
  const std::string text = message.dump();
  const auto n = static_cast<std::uint32_t>(text.size());
  std::string out;
  out.reserve(4 + text.size());
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out += text;
  return out;
}

void ControlReader::compact() {
  if (offset_ > 4096 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
}

std::optional<std::int8_t> ControlReader::take_state() {
  if (buffered() < 1) return std::nullopt;
  const auto state = static_cast<std::int8_t>(buffer_[offset_++]);
  compact();
  return state;
}

std::optional<std::string> ControlReader::take_bytes(std::size_t n) {
  if (buffered() < n) return std::nullopt;
  std::string out = buffer_.substr(offset_, n);
  offset_ += n;
  compact();
  return out;
}

std::optional<nlohmann::json> ControlReader::take_json() {
  if (buffered() < 4) return std::nullopt;
  const std::uint32_t n =
      wire::be32(reinterpret_cast<const std::uint8_t*>(buffer_.data() + offset_));
  if (n > kMaxJsonBytes) {
    throw ParseError("a JSON message of " + std::to_string(n) + " bytes is past the limit of " +
                     std::to_string(kMaxJsonBytes) + ": the peer does not speak iperf3");
  }
  if (buffered() < 4 + std::size_t{n}) return std::nullopt;
  std::string_view text(buffer_.data() + offset_ + 4, n);
  offset_ += 4 + std::size_t{n};
  // cJSON writes a trailing NUL into some messages' lengths; ignore it.
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  compact();
  if (j.is_discarded()) throw ParseError("the peer sent a message that is not JSON");
  if (!j.is_object()) throw ParseError("the peer sent JSON that is not an object");
  return j;
}

std::uint32_t TestParameters::block_size(std::uint32_t control_mss) const noexcept {
  if (len != 0) return len;
  if (protocol == Protocol::kTcp) return 128 * 1024;
  return control_mss != 0 ? control_mss : 1460;
}

nlohmann::json to_json(const TestParameters& p) {
  nlohmann::json j;
  j[p.protocol == Protocol::kTcp ? "tcp" : "udp"] = true;
  j["omit"] = p.omit;
  j["time"] = p.time;
  j["num"] = p.num;
  j["blockcount"] = p.blockcount;
  if (p.mss) j["MSS"] = p.mss;
  if (p.nodelay) j["nodelay"] = true;
  j["parallel"] = p.parallel;
  if (p.reverse) j["reverse"] = true;
  if (p.window) j["window"] = p.window;
  if (p.len) j["len"] = p.len;
  if (p.bandwidth) j["bandwidth"] = p.bandwidth;
  j["pacing_timer"] = p.pacing_timer;
  if (p.tos) j["TOS"] = p.tos;
  if (!p.congestion.empty()) j["congestion"] = p.congestion;
  if (p.udp_counters_64bit) j["udp_counters_64bit"] = 1;
  j["client_version"] = p.client_version;
  return j;
}

TestParameters parse_parameters(const nlohmann::json& j) {
  if (!j.is_object()) throw ParseError("the test parameters are not a JSON object");
  TestParameters p;
  const bool tcp = j.contains("tcp"), udp = j.contains("udp");
  if (j.contains("sctp")) throw ParseError("SCTP tests are not supported; use TCP or UDP");
  if (tcp == udp) throw ParseError("the test parameters name neither tcp nor udp (or both)");
  p.protocol = tcp ? Protocol::kTcp : Protocol::kUdp;
  if (j.contains("bidirectional"))
    throw ParseError("bidirectional tests (--bidir) are not supported; use -R for reverse");
  p.omit = static_cast<std::uint32_t>(get_uint(j, "omit", 0, 600, 0));
  p.time = static_cast<std::uint32_t>(get_uint(j, "time", 0, 86400, 10));
  p.num = get_uint(j, "num", 0, std::numeric_limits<std::uint64_t>::max(), 0);
  p.blockcount = get_uint(j, "blockcount", 0, std::numeric_limits<std::uint64_t>::max(), 0);
  if (p.time == 0 && p.num == 0 && p.blockcount == 0)
    throw ParseError("the test has no end: time, num and blockcount are all 0");
  p.mss = static_cast<std::uint32_t>(get_uint(j, "MSS", 0, 9 * 1024, 0));
  p.nodelay = j.contains("nodelay");
  p.parallel = static_cast<std::uint32_t>(get_uint(j, "parallel", 1, 128, 1));
  p.reverse = j.contains("reverse") && get_uint(j, "reverse", 0, 1, 1) == 1;
  p.window = static_cast<std::uint32_t>(get_uint(j, "window", 0, 1u << 30, 0));
  const std::uint64_t max_len = p.protocol == Protocol::kTcp ? (1u << 27) : 65507;
  p.len = static_cast<std::uint32_t>(get_uint(j, "len", 0, max_len, 0));
  if (p.protocol == Protocol::kUdp && p.len != 0 && p.len < 16)
    throw ParseError("parameter 'len' " + std::to_string(p.len) +
                     " is below 16, the UDP header's size");
  p.bandwidth = get_uint(j, "bandwidth", 0, std::numeric_limits<std::uint64_t>::max(), 0);
  p.pacing_timer = static_cast<std::uint32_t>(get_uint(j, "pacing_timer", 0, 1'000'000, 1000));
  p.tos = static_cast<std::uint32_t>(get_uint(j, "TOS", 0, 255, 0));
  p.congestion = get_string(j, "congestion");
  if (p.congestion.size() > 15) throw ParseError("congestion control name is too long");
  p.udp_counters_64bit = get_uint(j, "udp_counters_64bit", 0, 1, 0) == 1;
  p.client_version = get_string(j, "client_version");
  return p;
}

nlohmann::json to_json(const TestResults& r) {
  nlohmann::json j;
  j["cpu_util_total"] = r.cpu_util_total;
  j["cpu_util_user"] = r.cpu_util_user;
  j["cpu_util_system"] = r.cpu_util_system;
  j["sender_has_retransmits"] = r.sender_has_retransmits;
  if (!r.congestion_used.empty()) j["congestion_used"] = r.congestion_used;
  nlohmann::json streams = nlohmann::json::array();
  for (const StreamResult& s : r.streams) {
    streams.push_back({{"id", s.id},
                       {"bytes", s.bytes},
                       {"retransmits", s.retransmits},
                       {"jitter", s.jitter},
                       {"errors", s.errors},
                       {"packets", s.packets},
                       {"start_time", s.start_time},
                       {"end_time", s.end_time}});
  }
  j["streams"] = std::move(streams);
  return j;
}

TestResults parse_results(const nlohmann::json& j) {
  if (!j.is_object()) throw ParseError("the results are not a JSON object");
  TestResults r;
  for (const char* key : {"cpu_util_total", "cpu_util_user", "cpu_util_system"}) {
    if (!j.contains(key)) throw ParseError(std::string("results lack '") + key + "'");
  }
  r.cpu_util_total = get_double(j, "cpu_util_total", 0);
  r.cpu_util_user = get_double(j, "cpu_util_user", 0);
  r.cpu_util_system = get_double(j, "cpu_util_system", 0);
  r.sender_has_retransmits = static_cast<int>(get_count(j, "sender_has_retransmits"));
  r.congestion_used = get_string(j, "congestion_used");
  auto it = j.find("streams");
  if (it == j.end() || !it->is_array()) throw ParseError("results lack the 'streams' array");
  if (it->size() > 1024) throw ParseError("results list more than 1024 streams");
  for (const auto& s : *it) {
    if (!s.is_object()) throw ParseError("a stream in the results is not an object");
    StreamResult out;
    out.id = static_cast<int>(get_count(s, "id"));
    const std::int64_t bytes = get_count(s, "bytes");
    out.bytes = bytes < 0 ? 0 : static_cast<std::uint64_t>(bytes);
    out.retransmits = get_count(s, "retransmits");
    out.jitter = get_double(s, "jitter", 0);
    out.errors = get_count(s, "errors");
    out.packets = get_count(s, "packets");
    out.start_time = get_double(s, "start_time", 0);
    out.end_time = get_double(s, "end_time", 0);
    r.streams.push_back(out);
  }
  return r;
}

}  // namespace duplex::apps::perf
