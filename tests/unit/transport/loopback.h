// Helpers for the transport tests: a loop running in its own thread, and plain blocking
// client sockets on loopback with receive timeouts, so that a broken server fails a test
// instead of hanging it.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "duplex/inet/endpoint.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/loop_thread.h"

namespace duplex::test {

// A loop in its own thread; call() runs a function there and waits for its result.
class LoopRunner {
 public:
  LoopRunner() : loop_(thread_.start()) {}
  EventLoop* loop() const { return loop_; }

  template <typename F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    loop_->run_in_loop([&task] { task(); });
    return result.get();
  }

 private:
  LoopThread thread_;
  EventLoop* loop_;
};

// Polls `done` until it holds or `timeout` passes, and says whether it held: a test waits
// on the condition it needs, never for a guessed time. The deadline is generous so that a
// busy machine only makes the wait longer.
template <typename Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

inline inet::Endpoint loopback(std::uint16_t port = 0) {
  return inet::Endpoint::parse("127.0.0.1:" + std::to_string(port));
}

// A blocking TCP client; every receive gives up after `timeout_s`.
class Client {
 public:
  explicit Client(const inet::Endpoint& server, int timeout_s = 20) {
    sockaddr_storage ss;
    socklen_t len = server.to_sockaddr(ss);
    fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{timeout_s, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool send_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Up to n bytes; fewer on end-of-file, error or timeout.
  std::string receive(std::size_t n) {
    std::string out;
    char buf[65536];
    while (out.size() < n) {
      ssize_t r = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (r <= 0) break;
      out.append(buf, static_cast<std::size_t>(r));
    }
    return out;
  }
  // Everything until the server closes; empty optional on timeout or error.
  std::optional<std::string> receive_until_eof() {
    std::string out;
    char buf[65536];
    for (;;) {
      ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r == 0) return out;
      if (r < 0) return std::nullopt;
      out.append(buf, static_cast<std::size_t>(r));
    }
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Closing with SO_LINGER 0 sends RST instead of FIN.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// Reads from `client` into `seen` until `text` has come (true) or the server closed or went
// quiet (false).
inline bool receive_until(Client& client, std::string& seen, std::string_view text) {
  while (seen.find(text) == std::string::npos) {
    auto more = client.receive(1);
    if (more.empty()) return false;
    seen += more;
  }
  return true;
}

inline std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  unsigned x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace duplex::test
