// Public. `duplex perf -c HOST`: a client that speaks iperf3's protocol (perf_protocol.h),
// so it can test against a real `iperf3 -s` as well as `duplex perf -s`.
//
// It connects the control connection, sends the cookie and the parameters, opens the data
// streams one after another (so that both ends number them alike), runs the test for its
// time (or until -n bytes / -k blocks are sent), exchanges the results and reports both
// ends' view. Every wait has a deadline. Loop thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/perf/perf_protocol.h"
#include "duplex/apps/perf/perf_report.h"
#include "duplex/apps/perf/perf_session.h"
#include "duplex/inet/endpoint.h"
#include "duplex/transport/callbacks.h"
#include "duplex/transport/socket.h"

namespace duplex {
class Buffer;
class Channel;
class TcpClient;
}  // namespace duplex

namespace duplex::apps::perf {

struct ClientOptions {
  std::vector<inet::Endpoint> servers;  // every address of the host, tried in order
  std::string host;                     // as the user named it, for the report
  TestParameters params;
  double interval = 1.0;
  bool json = false;
  std::string version = "duplex";
  Clock::duration connect_timeout = std::chrono::seconds(10);
  // How long the server may take for each step (streams, results) before we give up.
  Clock::duration step_timeout = std::chrono::seconds(10);
};

class Client {
 public:
  Client(EventLoop* loop, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void on_text(std::function<void(const std::string&)> cb) { text_cb_ = std::move(cb); }
  void on_json(std::function<void(const nlohmann::json&)> cb) { json_cb_ = std::move(cb); }
  // Every interval as it closes (the dashboard's live charts, --report-to).
  void on_interval(std::function<void(const Interval&)> cb) { interval_cb_ = std::move(cb); }
  // The test is over: ok, or the one line that says why not.
  void on_finished(std::function<void(bool ok, const std::string& why)> cb) {
    finished_cb_ = std::move(cb);
  }

  void start();
  // Ctrl-C: tells the server (CLIENT_TERMINATE) and ends with an error.
  void terminate();

  // After the test: the report as iperf3's JSON document (start, intervals, end).
  const nlohmann::json& report() const noexcept { return report_; }
  Session* session() noexcept { return session_.get(); }
  // The server answered ACCESS_DENIED: it was busy with another test.
  bool denied() const noexcept { return denied_; }
  // The server sent at least one byte on the control connection. A connection that closes
  // before that may have landed in the accept queue of a listener that iperf3 -s was
  // closing after the previous test (it reopens it): the test never began.
  bool server_spoke() const noexcept { return server_spoke_; }

 private:
  enum class Phase { kConnecting, kWaiting, kStreams, kRunning, kEnding, kResults, kDone };

  void handle_connected(const TcpConnectionPtr& c);
  void handle_control(Buffer& input);
  void handle_state(std::int8_t state);
  void create_streams();
  void connect_next_stream();
  // `answered`: the server has said it has the stream (TEST_START came).
  void stream_connected(bool answered);
  void stream_ready(Socket socket);
  void begin_test();
  void end_test();
  void arm_deadline(Clock::duration after, std::string what);
  void finish(bool ok, const std::string& why);
  void output(const std::string& text);

  EventLoop* loop_;
  ClientOptions options_;
  std::unique_ptr<TcpClient> tcp_client_;
  TcpConnectionPtr control_;
  inet::Endpoint server_;
  ControlReader reader_;
  std::string cookie_;
  std::uint32_t control_mss_ = 0;
  Phase phase_ = Phase::kConnecting;
  bool expect_json_ = false;
  bool denied_ = false;
  bool server_spoke_ = false;  // server_spoke()
  std::int32_t server_error_[2] = {0, 0};
  int server_error_words_ = -1;  // SERVER_ERROR: how many of its two numbers are read
  std::unique_ptr<Session> session_;
  Socket connecting_;  // the stream being opened
  std::unique_ptr<Channel> connecting_channel_;
  std::vector<StartInfo::Connected> connected_;
  TimerId deadline_;
  TimerId test_timer_;
  TimerId hello_timer_;  // resends a UDP stream's hello until the server answers
  nlohmann::json report_;
  std::shared_ptr<Client*> alive_ = std::make_shared<Client*>(this);
  std::function<void(const std::string&)> text_cb_;
  std::function<void(const nlohmann::json&)> json_cb_;
  std::function<void(const Interval&)> interval_cb_;
  std::function<void(bool, const std::string&)> finished_cb_;
};

}  // namespace duplex::apps::perf
