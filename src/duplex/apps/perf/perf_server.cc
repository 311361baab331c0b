#include "duplex/apps/perf/perf_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "duplex/apps/perf/perf_start.h"
#include "duplex/base/error.h"
#include "duplex/reactor/buffer.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex::apps::perf {

// An accepted data connection until its cookie arrives.
struct Server::Pending {
  Socket socket;
  inet::Endpoint peer;
  std::string bytes;
  std::unique_ptr<Channel> channel;
};

Server::Server(EventLoop* loop, ServerOptions options)
    : loop_(loop),
      options_(std::move(options)),
      listener_(Socket::tcp(options_.listen)),
      listen_channel_(loop, listener_.fd()) {
  listener_.set_reuse_addr(true);
  listener_.bind(options_.listen);
  listener_.listen();
  listen_ = listener_.local_endpoint();
  listen_channel_.on_read([this] { handle_accept(); });
  listen_channel_.enable_reading();
}

Server::~Server() {
  alive_.reset();
  if (pause_timer_) loop_->cancel(pause_timer_);
  if (control_) control_->clear_callbacks();
  reset(false);
  for (auto& p : turned_away_) p->channel->remove();
  turned_away_.clear();
  listen_channel_.remove();
}

void Server::output(const std::string& text) {
  if (!options_.json && text_cb_) text_cb_(text);
}

void Server::handle_accept() {
  for (int i = 0; i < 16; ++i) {
    inet::Endpoint peer;
    const int fd = listener_.accept(&peer);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
        return;
      // EMFILE and the like: pause accepting briefly rather than spin on a ready listener.
      if (error_cb_) error_cb_("accept: " + errno_text(errno) + "; pausing 100 ms");
      listen_channel_.disable_reading();
      pause_timer_ = loop_->run_after(std::chrono::milliseconds(100), [this] {
        pause_timer_ = TimerId{};
        listen_channel_.enable_reading();
      });
      return;
    }
    Socket socket(fd);
    if (phase_ == Phase::kIdle) {
      start_control(std::move(socket), peer);
    } else if (phase_ == Phase::kCreateStreams && params_.protocol == Protocol::kTcp) {
      auto p = std::make_unique<Pending>();
      p->socket = std::move(socket);
      p->peer = peer;
      p->channel = std::make_unique<Channel>(loop_, p->socket.fd());
      Pending* raw = p.get();
      p->channel->on_read([this, raw] { handle_pending_cookie(raw); });
      p->channel->enable_reading();
      pending_.push_back(std::move(p));
    } else {
      turn_away(std::move(socket));
    }
  }
}

void Server::turn_away(Socket socket) {
  // A test runs: iperf3's answer, one byte, then FIN. The socket stays a moment, reading
  // and dropping what the newcomer sends (its cookie), so that closing it does not reset
  // the connection before the newcomer has read the answer.
  const char denied = static_cast<char>(State::kAccessDenied);
  [[maybe_unused]] ssize_t n = ::send(socket.fd(), &denied, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  socket.shutdown_write();
  auto p = std::make_shared<Pending>();
  p->socket = std::move(socket);
  p->channel = std::make_unique<Channel>(loop_, p->socket.fd());
  std::weak_ptr<Pending> weak = p;
  auto close = [server = std::weak_ptr<Server*>(alive_), weak] {
    auto alive = server.lock();
    if (!alive) return;
    auto& list = (*alive)->turned_away_;
    auto it = std::find(list.begin(), list.end(), weak.lock());
    if (it == list.end()) return;
    (*it)->channel->remove();
    (*alive)->loop_->queue_in_loop([keep = *it] {});  // after the callback that may run
    list.erase(it);
  };
  p->channel->on_read([weak, close] {
    auto self = weak.lock();
    if (!self) return;
    char buf[512];
    const ssize_t got = ::read(self->socket.fd(), buf, sizeof buf);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) close();
  });
  p->channel->enable_reading();
  turned_away_.push_back(p);
  loop_->run_after(std::chrono::seconds(2), close);
}

void Server::start_control(Socket socket, const inet::Endpoint& peer) {
  peer_ = peer;
  reader_ = ControlReader();
  phase_ = Phase::kCookie;
  const inet::Endpoint local = socket.local_endpoint();
  control_ = std::make_shared<TcpConnection>(loop_, "perf-control", std::move(socket), local, peer);
  control_->set_no_delay(true);
  // The callbacks hold the server weakly, and ignore a connection that is no longer the
  // test's (closed by reset(), whose close still comes through).
  std::weak_ptr<Server*> weak = alive_;
  control_->set_message_callback(
      [weak](const TcpConnectionPtr& c, Buffer& input, Clock::time_point) {
        auto self = weak.lock();
        if (!self || c != (*self)->control_) return input.retrieve_all();
        (*self)->handle_control(input);
      });
  control_->set_connection_callback([weak](const TcpConnectionPtr& c) {
    auto self = weak.lock();
    if (self && c == (*self)->control_) (*self)->handle_control_closed(*c);
  });
  control_->connect_established();
  arm_deadline(options_.setup_timeout, "set up the test");
}

void Server::handle_control_closed(const TcpConnection& c) {
  if (c.connected() || phase_ == Phase::kIdle) return;
  if (phase_ == Phase::kDone) return reset(true);  // a client that closes without IPERF_DONE
  const std::string reason = c.close_reason().empty() ? "closed" : c.close_reason();
  fail("the client's control connection " + reason +
       (phase_ == Phase::kRunning ? " mid-test (the client vanished)" : ""));
}

void Server::arm_deadline(Clock::duration after, std::string what) {
  if (deadline_) loop_->cancel(deadline_);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(after).count();
  deadline_ = loop_->run_after(after, [this, what = std::move(what), seconds] {
    deadline_ = TimerId{};
    fail("the client did not " + what + " within " + std::to_string(seconds) + " s");
  });
}

void Server::send_state(State state) {
  if (control_) control_->send(std::string(1, static_cast<char>(state)));
}

void Server::handle_control(Buffer& input) {
  reader_.append(input.view());
  input.retrieve_all();
  try {
    handle_control_step();
  } catch (const Error& e) {
    fail(e.what());
  }
}

void Server::handle_control_step() {
  while (phase_ != Phase::kIdle && reader_.buffered() > 0) {
    switch (phase_) {
      case Phase::kCookie: {
        // Refused at the first byte that no cookie has, rather than after 37 of them.
        if (auto head = reader_.peek(kCookieSize); !is_cookie_prefix(head)) {
          throw ParseError("the first bytes are not an iperf3 cookie: not an iperf3 client");
        }
        auto cookie = reader_.take_bytes(kCookieSize);
        if (!cookie) return;
        if (!is_cookie(*cookie)) {
          throw ParseError("the first 37 bytes are not an iperf3 cookie: not an iperf3 client");
        }
        cookie_ = *cookie;
        phase_ = Phase::kParams;
        send_state(State::kParamExchange);
        break;
      }
      case Phase::kParams: {
        auto j = reader_.take_json();
        if (!j) return;
        handle_parameters(*j);
        break;
      }
      case Phase::kResults: {
        auto j = reader_.take_json();
        if (!j) return;
        session_->set_remote_results(parse_results(*j));
        if (control_) control_->send(frame_json(to_json(session_->local_results())));
        send_state(State::kDisplayResults);
        phase_ = Phase::kDone;
        if (options_.json && json_cb_) {
          nlohmann::json doc;
          doc["start"] = start_json_;
          doc["intervals"] = session_->intervals_json();
          doc["end"] = session_->end_json();
          json_cb_(doc);
        }
        output(session_->end_text());
        break;
      }
      default: {
        const std::int8_t state = *reader_.take_state();
        switch (static_cast<State>(state)) {
          case State::kTestStart:
            break;  // iperf3 clients may echo it; nothing to do
          case State::kTestEnd:
            if (phase_ != Phase::kRunning)
              throw ParseError("TEST_END before the test ran: not an iperf3 client");
            end_test();
            break;
          case State::kIperfDone:
            if (phase_ != Phase::kDone) throw ParseError("IPERF_DONE before the results");
            reset(true);
            return;
          case State::kClientTerminate:
            fail("the client terminated the test (CLIENT_TERMINATE)");
            return;
          default:
            throw ParseError("unexpected " + state_name(state) + " from the client");
        }
      }
    }
  }
}

void Server::handle_parameters(const nlohmann::json& j) {
  params_ = parse_parameters(j);
  int mss = 0;
  socklen_t len = sizeof mss;
  if (control_) ::getsockopt(control_->fd(), IPPROTO_TCP, TCP_MAXSEG, &mss, &len);
  session_ = std::make_unique<Session>(loop_, params_, params_.reverse, true, options_.interval,
                                       static_cast<std::uint32_t>(std::max(mss, 0)));
  session_->on_stream_failure(
      [this](const std::string& why) { fail(why + " mid-test (the client vanished?)"); });
  session_->on_interval(
      [this](const Interval& interval) { output(interval_text(interval, params_.protocol)); });
  if (params_.protocol == Protocol::kUdp) open_udp_listener();
  phase_ = Phase::kCreateStreams;
  output("Accepted connection from " + peer_.address().unmapped().to_string() + ", port " +
         std::to_string(peer_.port()) + "\n");
  send_state(State::kCreateStreams);
}

void Server::open_udp_listener() {
  udp_channel_.reset();
  udp_listener_ = Socket::udp(listen_);
  udp_listener_.set_reuse_addr(true);
  udp_listener_.bind(listen_);
  udp_channel_ = std::make_unique<Channel>(loop_, udp_listener_.fd());
  udp_channel_->on_read([this] { handle_udp_hello(); });
  udp_channel_->enable_reading();
}

void Server::handle_udp_hello() {
  char hello[64];
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  const ssize_t n = ::recvfrom(udp_listener_.fd(), hello, sizeof hello, 0,
                               reinterpret_cast<sockaddr*>(&ss), &len);
  if (n < 0) return;
  auto peer = inet::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
  // Only the client under test opens streams (the control connection's address).
  if (!peer || peer->address().unmapped() != peer_.address().unmapped()) return;
  Socket stream = std::move(udp_listener_);
  udp_channel_.reset();
  if (stream.connect(*peer) != 0) return fail("connect UDP stream: " + errno_text(errno));
  // The next stream's hello goes to a fresh socket on the port; this one is connected.
  if (session_->stream_count() + 1 < params_.parallel) open_udp_listener();
  [[maybe_unused]] ssize_t sent =
      ::send(stream.fd(), kUdpHelloReply.data(), kUdpHelloReply.size(), MSG_NOSIGNAL);
  add_stream(std::move(stream));
}

void Server::handle_pending_cookie(Pending* pending) {
  char buf[kCookieSize];
  const std::size_t want = kCookieSize - pending->bytes.size();
  const ssize_t n = ::read(pending->socket.fd(), buf, want);
  auto drop = [this, pending] {
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [pending](const auto& p) { return p.get() == pending; });
    if (it != pending_.end()) {
      (*it)->channel->remove();
      loop_->queue_in_loop([p = std::shared_ptr<Pending>(std::move(*it))] {});
      pending_.erase(it);
    }
  };
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return drop();
  if (n < 0) return;
  pending->bytes.append(buf, static_cast<std::size_t>(n));
  if (pending->bytes.size() < kCookieSize) return;
  if (pending->bytes != cookie_) {
    // Someone else's stream, or a stale one: refused as iperf3 refuses it.
    pending->channel->remove();
    turn_away(std::move(pending->socket));
    if (error_cb_)
      error_cb_(pending->peer.to_string() + ": a data stream with the wrong cookie; refused");
    return drop();
  }
  Socket socket = std::move(pending->socket);
  drop();
  add_stream(std::move(socket));
}

void Server::add_stream(Socket socket) {
  if (!session_ || phase_ != Phase::kCreateStreams) return;
  try {
    const inet::Endpoint local = socket.local_endpoint(), remote = socket.peer_endpoint();
    Stream& s = session_->add_stream(std::move(socket));
    output(connected_line(s.fd(), local, remote));
    start_connected_.push_back(connected_entry(s.fd(), local, remote));
  } catch (const Error& e) {
    return fail(e.what());
  }
  if (session_->stream_count() == params_.parallel) begin_test();
}

void Server::begin_test() {
  udp_channel_.reset();
  udp_listener_ = Socket();
  StartInfo info = make_start_info(options_.version, cookie_, true, peer_, params_,
                                   session_->block_size(), session_->streams());
  info.connected = std::move(start_connected_);
  start_json_ = start_json(info);
  send_state(State::kTestStart);
  send_state(State::kTestRunning);
  phase_ = Phase::kRunning;
  output(interval_header(params_.protocol, session_->we_send()));
  session_->start();
  if (params_.time != 0) {
    arm_deadline(std::chrono::seconds(params_.time + params_.omit) + options_.end_grace,
                 "end the test");
  } else if (deadline_) {
    loop_->cancel(deadline_);
    deadline_ = TimerId{};
  }
}

void Server::end_test() {
  session_->finish(true);
  session_->close_streams();
  phase_ = Phase::kResults;
  send_state(State::kExchangeResults);
  arm_deadline(options_.end_grace, "exchange the results");
}

void Server::terminate() {
  if (phase_ == Phase::kIdle) return;
  send_state(State::kServerTerminate);
  fail("the server stopped (SERVER_TERMINATE sent)");
}

void Server::fail(const std::string& why) {
  if (phase_ == Phase::kIdle) return;
  if (error_cb_) error_cb_(peer_.to_string() + ": " + why);
  reset(false);
}

void Server::reset(bool ok) {
  if (phase_ == Phase::kIdle) return;
  phase_ = Phase::kIdle;
  if (deadline_) {
    loop_->cancel(deadline_);
    deadline_ = TimerId{};
  }
  if (control_) {
    control_->shutdown_write();  // what was sent (DISPLAY_RESULTS, SERVER_TERMINATE) goes first
    control_->force_close();
    control_.reset();
  }
  for (auto& p : pending_) p->channel->remove();
  pending_.clear();
  udp_channel_.reset();
  udp_listener_ = Socket();
  // Streams may be inside one of their own callbacks (a failure): destroy them after it.
  if (session_) loop_->queue_in_loop([s = std::shared_ptr<Session>(std::move(session_))] {});
  start_connected_.clear();
  ++tests_done_;
  if (done_cb_) done_cb_(ok);
}

}  // namespace duplex::apps::perf
