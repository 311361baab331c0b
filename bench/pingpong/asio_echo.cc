// Standalone-asio peer of the ping-pong benchmark: the async echo server of asio's own
// examples (a session kept alive by shared_from_this, async_read_some then async_write),
// with a 64 KiB buffer instead of the example's 1 KiB and TCP_NODELAY, as a user who cares
// about throughput would write it. One io_context, run by one thread.
// Usage: asio_echo PORT [1]
#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include <asio.hpp>

using asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void start() { read(); }

 private:
  void read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(data_), [this, self](std::error_code ec, size_t n) {
      if (!ec) write(n);
    });
  }

  void write(size_t n) {
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(data_, n), [this, self](std::error_code ec, size_t) {
      if (!ec) read();
    });
  }

  tcp::socket socket_;
  std::array<char, 64 * 1024> data_;
};

class Server {
 public:
  Server(asio::io_context& io, unsigned short port)
      : acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), port)) {
    accept();
  }

 private:
  void accept() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket socket) {
      if (!ec) {
        socket.set_option(tcp::no_delay(true));
        std::make_shared<Session>(std::move(socket))->start();
      }
      accept();
    });
  }

  tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::string(argv[2]) != "1")) {
    std::fprintf(stderr, "usage: %s PORT [1]  (echo server on 127.0.0.1:PORT, one thread)\n",
                 argv[0]);
    return 2;
  }
  int port = std::atoi(argv[1]);
  if (port < 1 || port > 65535) {
    std::fprintf(stderr, "asio_echo: bad port '%s'\n", argv[1]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);  // asio sends with MSG_NOSIGNAL; this is belt and braces
  try {
    asio::io_context io(1);  // concurrency hint: one thread runs this context
    Server server(io, static_cast<unsigned short>(port));
    std::printf("asio_echo: listening on 127.0.0.1:%d\n", port);
    std::fflush(stdout);
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
