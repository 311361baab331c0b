#include "duplex/apps/perf/perf_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "duplex/apps/perf/perf_start.h"
#include "duplex/base/error.h"
#include "duplex/reactor/buffer.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_client.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::apps::perf {

namespace {
// iperf3 sends its UDP hello once; over a lossy link that loses a test in fifty.
constexpr auto kHelloResend = std::chrono::milliseconds(250);
}  // namespace

Client::Client(EventLoop* loop, ClientOptions options)
    : loop_(loop), options_(std::move(options)) {}

Client::~Client() {
  alive_.reset();
  if (deadline_) loop_->cancel(deadline_);
  if (test_timer_) loop_->cancel(test_timer_);
  if (hello_timer_) loop_->cancel(hello_timer_);
  if (control_) {
    control_->clear_callbacks();
    control_->force_close();
  }
  connecting_channel_.reset();
}

void Client::output(const std::string& text) {
  if (!options_.json && text_cb_) text_cb_(text);
}

void Client::start() {
  cookie_ = make_cookie();
  tcp_client_ = std::make_unique<TcpClient>(loop_, options_.servers, "perf-control");
  tcp_client_->set_connect_timeout(options_.connect_timeout);
  std::weak_ptr<Client*> weak = alive_;
  tcp_client_->set_connection_callback([weak](const TcpConnectionPtr& c) {
    auto self = weak.lock();
    if (!self) return;
    Client& client = **self;
    if (c->connected()) return client.handle_connected(c);
    if (client.phase_ != Phase::kDone) {
      client.finish(false, "the server closed the control connection" +
                               (c->close_reason().empty() ? "" : " (" + c->close_reason() + ")") +
                               " during the test");
    }
  });
  tcp_client_->set_message_callback(
      [weak](const TcpConnectionPtr&, Buffer& input, Clock::time_point) {
        if (auto self = weak.lock()) (*self)->handle_control(input);
      });
  tcp_client_->set_connect_failed_callback([weak](const std::string& why) {
    if (auto self = weak.lock()) (*self)->finish(false, why);
  });
  tcp_client_->connect();
}

void Client::handle_connected(const TcpConnectionPtr& c) {
  control_ = c;
  server_ = c->peer();
  c->set_no_delay(true);
  int mss = 0;
  socklen_t len = sizeof mss;
  if (::getsockopt(c->fd(), IPPROTO_TCP, TCP_MAXSEG, &mss, &len) == 0 && mss > 0 && mss <= 65507)
    control_mss_ = static_cast<std::uint32_t>(mss);
  c->send(cookie_);
  phase_ = Phase::kWaiting;
  arm_deadline(options_.step_timeout, "ask for the parameters");
}

void Client::arm_deadline(Clock::duration after, std::string what) {
  if (deadline_) loop_->cancel(deadline_);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(after).count();
  deadline_ = loop_->run_after(after, [this, what = std::move(what), seconds] {
    deadline_ = TimerId{};
    finish(false, "the server did not " + what + " within " + std::to_string(seconds) +
                      " s (is it an iperf3 server?)");
  });
}

void Client::handle_control(Buffer& input) {
  if (input.readable_bytes() > 0) server_spoke_ = true;
  reader_.append(input.view());
  input.retrieve_all();
  try {
    while (phase_ != Phase::kDone && reader_.buffered() > 0) {
      if (server_error_words_ >= 0) {
        auto word = reader_.take_bytes(4);
        if (!word) return;
        const auto* p = reinterpret_cast<const unsigned char*>(word->data());
        server_error_[server_error_words_++] =
            static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                      (std::uint32_t{p[2]} << 8) | p[3]);
        if (server_error_words_ == 2) {
          std::string why =
              "the server could not run the test: iperf3 error " + std::to_string(server_error_[0]);
          if (server_error_[1] > 0) why += " (" + errno_text(server_error_[1]) + ")";
          return finish(false, why);
        }
        continue;
      }
      if (expect_json_) {
        auto j = reader_.take_json();
        if (!j) return;
        expect_json_ = false;
        session_->set_remote_results(parse_results(*j));
        continue;
      }
      handle_state(*reader_.take_state());
    }
  } catch (const Error& e) {
    finish(false, std::string("the server's answer is not iperf3's: ") + e.what());
  }
}

void Client::handle_state(std::int8_t state) {
  switch (static_cast<State>(state)) {
    case State::kParamExchange:
      // iperf3 servers take the block size from the client: say it even for the default.
      options_.params.len = options_.params.block_size(control_mss_);
      control_->send(frame_json(to_json(options_.params)));
      arm_deadline(options_.step_timeout, "accept the parameters");
      return;
    case State::kCreateStreams:
      return create_streams();
    case State::kTestStart:
    case State::kTestRunning:
      // The server saw the last UDP stream's hello and answered it; the answer may still
      // be on its way (it comes by another socket than this message).
      if (connecting_channel_ && options_.params.protocol == Protocol::kUdp) stream_connected(true);
      if (static_cast<State>(state) == State::kTestRunning) begin_test();
      return;
    case State::kExchangeResults:
      if (!session_) throw ParseError("EXCHANGE_RESULTS before the test");
      if (!session_->finished()) session_->finish(false);  // the server ended it
      control_->send(frame_json(to_json(session_->local_results())));
      expect_json_ = true;
      phase_ = Phase::kResults;
      arm_deadline(options_.step_timeout, "send its results");
      return;
    case State::kDisplayResults: {
      if (phase_ != Phase::kResults) throw ParseError("DISPLAY_RESULTS before the results");
      session_->close_streams();
      report_["end"] = session_->end_json();
      output(session_->end_text());
      control_->send(std::string(1, static_cast<char>(State::kIperfDone)));
      return finish(true, "");
    }
    case State::kServerTerminate:
      return finish(false, "the server stopped the test (SERVER_TERMINATE)");
    case State::kAccessDenied:
      denied_ = true;
      return finish(false, "the server is busy with another test (ACCESS_DENIED); try again later");
    case State::kServerError:
      server_error_words_ = 0;
      return;
    default:
      throw ParseError("unexpected " + state_name(state));
  }
}

void Client::create_streams() {
  session_ = std::make_unique<Session>(loop_, options_.params, !options_.params.reverse, false,
                                       options_.interval, control_mss_);
  session_->on_interval([this](const Interval& interval) {
    output(interval_text(interval, options_.params.protocol));
    if (interval_cb_) interval_cb_(interval);
  });
  session_->on_stream_failure([this](const std::string& why) { finish(false, why); });
  session_->on_budget_spent([this] { end_test(); });
  phase_ = Phase::kStreams;
  output("Connecting to host " + options_.host + ", port " + std::to_string(server_.port()) + "\n");
  arm_deadline(options_.step_timeout, "accept the data streams");
  connect_next_stream();
}

void Client::connect_next_stream() {
  const bool udp = options_.params.protocol == Protocol::kUdp;
  try {
    connecting_ = udp ? Socket::udp(server_) : Socket::tcp(server_);
    connecting_channel_ = std::make_unique<Channel>(loop_, connecting_.fd());
    const int err = connecting_.connect(server_);
    if (err != 0 && err != EINPROGRESS) throw Error(socket_error("connect", err, &server_));
    if (udp) {
      // The hello; the server's answer (readable) means the stream is there.
      if (::send(connecting_.fd(), kUdpHello.data(), kUdpHello.size(), MSG_NOSIGNAL) < 0)
        throw Error(socket_error("send UDP hello", errno, &server_));
      connecting_channel_->on_read([this] { stream_connected(false); });
      connecting_channel_->enable_reading();
      // A datagram can be lost where a SYN would be resent: say it again until the server
      // answers (its answer, or TEST_START on the control connection). A hello that arrives
      // twice reaches the stream the first one opened, which drops it as too short.
      hello_timer_ = loop_->run_every(kHelloResend, [this] {
        [[maybe_unused]] ssize_t n =
            ::send(connecting_.fd(), kUdpHello.data(), kUdpHello.size(), MSG_NOSIGNAL);
      });
    } else {
      connecting_channel_->on_write([this] { stream_connected(false); });
      connecting_channel_->enable_writing();
    }
  } catch (const Error& e) {
    finish(false, e.what());
  }
}

void Client::stream_connected(bool answered) {
  const bool udp = options_.params.protocol == Protocol::kUdp;
  char reply[64];
  if (udp && ::recv(connecting_.fd(), reply, sizeof reply, MSG_DONTWAIT) < 0) {
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && !answered) return;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return finish(false, socket_error("UDP stream", errno, &server_) +
                               ": is the server's UDP port reachable?");
  }
  if (hello_timer_) loop_->cancel(hello_timer_);
  hello_timer_ = TimerId{};
  connecting_channel_->disable_all();
  connecting_channel_->remove();
  // Destroyed after this callback returns: it is the channel that called us.
  loop_->queue_in_loop([c = std::shared_ptr<Channel>(std::move(connecting_channel_))] {});
  Socket socket = std::move(connecting_);
  if (!udp) {
    const int err = socket.pending_error();
    if (err != 0) return finish(false, socket_error("connect data stream", err, &server_));
    if (::send(socket.fd(), cookie_.data(), cookie_.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(cookie_.size()))
      return finish(false, socket_error("send cookie", errno, &server_));
  }
  stream_ready(std::move(socket));
}

void Client::stream_ready(Socket socket) {
  try {
    const inet::Endpoint local = socket.local_endpoint(), remote = socket.peer_endpoint();
    Stream& s = session_->add_stream(std::move(socket));
    output(connected_line(s.fd(), local, remote));
    connected_.push_back(connected_entry(s.fd(), local, remote));
  } catch (const Error& e) {
    return finish(false, e.what());
  }
  if (session_->stream_count() < options_.params.parallel) return connect_next_stream();
  arm_deadline(options_.step_timeout, "start the test");
}

void Client::begin_test() {
  if (!session_ || session_->stream_count() != options_.params.parallel)
    throw ParseError("TEST_RUNNING before every stream was open");
  StartInfo info = make_start_info(options_.version, cookie_, false, server_, options_.params,
                                   session_->block_size(), session_->streams());
  info.host = options_.host;
  info.connected = connected_;
  info.tcp_mss_default = control_mss_;
  report_["start"] = start_json(info);
  phase_ = Phase::kRunning;
  if (deadline_) {
    loop_->cancel(deadline_);
    deadline_ = TimerId{};
  }
  output(interval_header(options_.params.protocol, session_->we_send()));
  session_->start();
  const auto& p = options_.params;
  if (p.time != 0) {
    test_timer_ = loop_->run_after(std::chrono::seconds(p.time + p.omit), [this] {
      test_timer_ = TimerId{};
      end_test();
    });
  }
}

void Client::end_test() {
  if (phase_ != Phase::kRunning) return;
  if (test_timer_) {
    loop_->cancel(test_timer_);
    test_timer_ = TimerId{};
  }
  // A receiver stops counting now, as iperf3's, but keeps reading until the results.
  session_->finish(false);
  control_->send(std::string(1, static_cast<char>(State::kTestEnd)));
  phase_ = Phase::kEnding;
  arm_deadline(options_.step_timeout, "answer TEST_END");
}

void Client::terminate() {
  if (phase_ == Phase::kDone) return;
  if (control_ && control_->connected())
    control_->send(std::string(1, static_cast<char>(State::kClientTerminate)));
  finish(false, "interrupted (CLIENT_TERMINATE sent)");
}

void Client::finish(bool ok, const std::string& why) {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDone;
  if (deadline_) loop_->cancel(deadline_);
  if (test_timer_) loop_->cancel(test_timer_);
  if (hello_timer_) loop_->cancel(hello_timer_);
  deadline_ = test_timer_ = hello_timer_ = TimerId{};
  if (session_) {
    session_->finish(false);
    session_->close_streams();
    report_["intervals"] = session_->intervals_json();
  } else {
    report_["intervals"] = nlohmann::json::array();
  }
  if (!report_.contains("start")) report_["start"] = nlohmann::json::object();
  if (!report_.contains("end")) report_["end"] = nlohmann::json::object();
  if (!ok) report_["error"] = why;
  if (control_) control_->shutdown_write();
  if (tcp_client_) tcp_client_->stop();
  if (options_.json && json_cb_) json_cb_(report_);
  if (finished_cb_) finished_cb_(ok, why);
}

}  // namespace duplex::apps::perf
