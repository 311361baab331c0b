// Public. iperf3's control protocol, as the wire carries it, with no sockets: so that
// `iperf3 -c` can test against `duplex perf -s`, and `duplex perf -c` against `iperf3 -s`.
//
// The control connection (TCP, to the server's port, 5201 by default):
//   client -> server  the cookie: 36 characters of [a-z2-7] and a NUL (37 bytes)
//   server -> client  PARAM_EXCHANGE (9), one signed byte, as every state is
//   client -> server  the test's parameters: a JSON object framed by its length, 4 bytes
//                     big-endian
//   server -> client  CREATE_STREAMS (10); the client opens each data stream to the same
//                     port: TCP, sending the cookie first; UDP, sending a 4-byte hello
//                     datagram that the server answers (perf_udp.h)
//   server -> client  TEST_START (1), TEST_RUNNING (2): data flows
//   client -> server  TEST_END (4) when the time (or byte count) is up
//   server -> client  EXCHANGE_RESULTS (13); the client sends its results (JSON), then the
//                     server its own
//   server -> client  DISPLAY_RESULTS (14)
//   client -> server  IPERF_DONE (16), and the client closes
// A busy server answers a second client with ACCESS_DENIED (-1); a server that cannot run
// the test sends SERVER_ERROR (-2) and two 32-bit big-endian error numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace duplex::apps::perf {

// The one-byte test states (iperf.h's names).
enum class State : std::int8_t {
  kTestStart = 1,
  kTestRunning = 2,
  kTestEnd = 4,
  kParamExchange = 9,
  kCreateStreams = 10,
  kServerTerminate = 11,
  kClientTerminate = 12,
  kExchangeResults = 13,
  kDisplayResults = 14,
  kIperfStart = 15,
  kIperfDone = 16,
  kAccessDenied = -1,
  kServerError = -2,
};

// "TEST_START", ...; "unknown state 77" for anything else.
std::string state_name(std::int8_t state);

inline constexpr std::size_t kCookieSize = 37;  // 36 characters and a NUL
inline constexpr std::uint16_t kDefaultPort = 5201;
inline constexpr std::uint64_t kDefaultUdpRate = 1'000'000;  // bits/s, without -b
// A JSON message longer than this is refused: iperf3's are a few hundred bytes (its server
// output, when the client asks for it, a few hundred KiB).
inline constexpr std::uint32_t kMaxJsonBytes = 4u << 20;

// A fresh cookie from the kernel's random bytes: 36 characters of [a-z2-7] and a NUL.
std::string make_cookie();
// Whether 37 bytes have the cookie's form (the characters, then the NUL).
bool is_cookie(std::string_view bytes) noexcept;
// Whether the bytes so far (at most 37) can begin a cookie.
bool is_cookie_prefix(std::string_view bytes) noexcept;

// A JSON message as the control connection carries it: 4-byte big-endian length, then the
// text without spaces (as cJSON_PrintUnformatted writes it).
std::string frame_json(const nlohmann::json& message);

// Reads what arrives on the control connection. The caller knows, from the state it is in,
// what comes next and asks for it; each take_* returns nullopt until all of it is there.
class ControlReader {
 public:
  void append(std::string_view bytes) { buffer_.append(bytes); }
  std::size_t buffered() const noexcept { return buffer_.size() - offset_; }

  // Up to n buffered bytes, without taking them.
  std::string_view peek(std::size_t n) const noexcept {
    return std::string_view(buffer_).substr(offset_, n);
  }
  std::optional<std::int8_t> take_state();
  std::optional<std::string> take_bytes(std::size_t n);
  // Throws duplex::ParseError, naming the cause, for a length past kMaxJsonBytes or text
  // that is not a JSON object.
  std::optional<nlohmann::json> take_json();

 private:
  void compact();

  std::string buffer_;
  std::size_t offset_ = 0;
};

enum class Protocol { kTcp, kUdp };

// The client's parameters (iperf3's send_parameters / get_parameters keys).
struct TestParameters {
  Protocol protocol = Protocol::kTcp;
  std::uint32_t omit = 0;           // "omit": seconds left out of the results at the start
  std::uint32_t time = 10;          // "time": seconds (0 with num or blockcount)
  std::uint64_t num = 0;            // "num": bytes to send instead of a time
  std::uint64_t blockcount = 0;     // "blockcount": blocks to send instead of a time
  std::uint32_t parallel = 1;       // "parallel": streams
  bool reverse = false;             // "reverse": the server sends
  std::uint32_t len = 0;            // "len": bytes a write (TCP) or datagram (UDP); 0: default
  std::uint64_t bandwidth = 0;      // "bandwidth": bits/s per stream, 0: unlimited
  std::uint32_t window = 0;         // "window": SO_SNDBUF/SO_RCVBUF bytes, 0: the kernel's
  std::uint32_t mss = 0;            // "MSS": TCP_MAXSEG
  bool nodelay = false;             // "nodelay": TCP_NODELAY
  std::uint32_t tos = 0;            // "TOS"
  std::string congestion;           // "congestion": TCP_CONGESTION for the streams
  bool udp_counters_64bit = false;  // "udp_counters_64bit": 16-byte UDP header
  std::uint32_t pacing_timer = 1000;
  std::string client_version;  // "client_version"

  // iperf3's defaults: 128 KiB for TCP, and for UDP the control connection's MSS (or 1460).
  std::uint32_t block_size(std::uint32_t control_mss = 0) const noexcept;
};

nlohmann::json to_json(const TestParameters& p);
// Throws duplex::ParseError naming the key for a value of the wrong type or out of range
// ("parallel 0 is out of range 1..128"), or for a test that names neither tcp nor udp.
TestParameters parse_parameters(const nlohmann::json& j);

// One stream's totals as the two ends exchange them.
struct StreamResult {
  int id = 0;                     // 1, 3, 4, 5... (stream_id)
  std::uint64_t bytes = 0;        // sent by a sender, received by a receiver
  std::int64_t retransmits = -1;  // -1: not a TCP sender
  double jitter = 0;              // seconds, UDP receiver
  std::int64_t errors = 0;        // UDP datagrams lost
  std::int64_t packets = 0;       // UDP datagrams sent, or the highest sequence received
  double start_time = 0;          // seconds since the test started
  double end_time = 0;
};

struct TestResults {
  double cpu_util_total = 0;  // percent of one CPU, over the test
  double cpu_util_user = 0;
  double cpu_util_system = 0;
  int sender_has_retransmits = -1;  // 1: TCP sender with TCP_INFO, 0: none, -1: receiver
  std::string congestion_used;
  std::vector<StreamResult> streams;
};

nlohmann::json to_json(const TestResults& r);
// Throws duplex::ParseError naming what is missing or wrong.
TestResults parse_results(const nlohmann::json& j);

// iperf3 numbers its streams 1, 3, 4, 5...: stream index i (from 0) has this id.
inline int stream_id(std::size_t index) noexcept {
  return index == 0 ? 1 : static_cast<int>(index) + 2;
}

}  // namespace duplex::apps::perf
