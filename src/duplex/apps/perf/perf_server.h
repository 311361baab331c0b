// Public. `duplex perf -s`: a server that speaks iperf3's protocol (perf_protocol.h), so a
// real `iperf3 -c` can test against it. One test at a time, as iperf3: a client that comes
// while a test runs is told ACCESS_DENIED and closed.
//
// Bad input never stops the server: a client that sends no cookie (or not a cookie), bad
// parameters, a data stream with the wrong cookie, or a client that vanishes mid-test each
// end that test with one line naming the cause (on_error), every socket of it closed, and
// the server waits for the next client. Each phase has a deadline, so a silent client
// cannot hold the server. Loop thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/perf/perf_protocol.h"
#include "duplex/apps/perf/perf_session.h"
#include "duplex/inet/endpoint.h"
#include "duplex/reactor/channel.h"
#include "duplex/transport/callbacks.h"
#include "duplex/transport/socket.h"

namespace duplex {
class Buffer;
class TcpConnection;
}  // namespace duplex

namespace duplex::apps::perf {

struct ServerOptions {
  inet::Endpoint listen;
  double interval = 1.0;  // seconds between interval reports, 0 for none
  bool json = false;      // a JSON document per test (on_json) instead of text
  std::string version = "duplex";
  // How long a client may take to send its cookie, its parameters, and open its streams.
  Clock::duration setup_timeout = std::chrono::seconds(10);
  // How long past the test's time the server waits for TEST_END and the results.
  Clock::duration end_grace = std::chrono::seconds(10);
};

class Server {
 public:
  // Binds and listens on the TCP port; throws duplex::Error ("address in use").
  Server(EventLoop* loop, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void on_text(std::function<void(const std::string&)> cb) { text_cb_ = std::move(cb); }
  void on_json(std::function<void(const nlohmann::json&)> cb) { json_cb_ = std::move(cb); }
  // A test failed: one line naming the peer and the cause.
  void on_error(std::function<void(const std::string&)> cb) { error_cb_ = std::move(cb); }
  // A test ended, well (ok) or not; the server is ready for the next client.
  void on_test_done(std::function<void(bool ok)> cb) { done_cb_ = std::move(cb); }

  const inet::Endpoint& listen_endpoint() const noexcept { return listen_; }
  std::uint64_t tests_done() const noexcept { return tests_done_; }
  bool busy() const noexcept { return phase_ != Phase::kIdle; }

  // Tells a client under test that the server stops (SERVER_TERMINATE) and ends the test.
  void terminate();

 private:
  enum class Phase { kIdle, kCookie, kParams, kCreateStreams, kRunning, kResults, kDone };
  struct Pending;  // an accepted stream socket waiting for its cookie

  void handle_accept();
  void start_control(Socket socket, const inet::Endpoint& peer);
  void turn_away(Socket socket);
  void handle_control(Buffer& input);
  void handle_control_closed(const TcpConnection& c);
  void handle_control_step();
  void handle_parameters(const nlohmann::json& j);
  void open_udp_listener();
  void handle_udp_hello();
  void handle_pending_cookie(Pending* pending);
  void add_stream(Socket socket);
  void begin_test();
  void end_test();
  void send_state(State state);
  void fail(const std::string& why);
  void reset(bool ok);
  void arm_deadline(Clock::duration after, std::string what);
  void output(const std::string& text);

  EventLoop* loop_;
  ServerOptions options_;
  Socket listener_;
  inet::Endpoint listen_;
  Channel listen_channel_;
  Phase phase_ = Phase::kIdle;
  TcpConnectionPtr control_;
  inet::Endpoint peer_;
  ControlReader reader_;
  std::string cookie_;
  TestParameters params_;
  std::unique_ptr<Session> session_;
  std::vector<std::unique_ptr<Pending>> pending_;
  std::vector<std::shared_ptr<Pending>> turned_away_;
  Socket udp_listener_;
  std::unique_ptr<Channel> udp_channel_;
  TimerId deadline_;
  TimerId pause_timer_;
  std::vector<StartInfo::Connected> start_connected_;
  nlohmann::json start_json_;
  std::shared_ptr<Server*> alive_ = std::make_shared<Server*>(this);
  std::uint64_t tests_done_ = 0;
  std::function<void(const std::string&)> text_cb_;
  std::function<void(const nlohmann::json&)> json_cb_;
  std::function<void(const std::string&)> error_cb_;
  std::function<void(bool)> done_cb_;
};

}  // namespace duplex::apps::perf
