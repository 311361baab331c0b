// `duplex echo`: an echo server on the reactor. A handy test peer and the benchmark target.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "backend_flag.h"
#include "bind_address.h"
#include "commands.h"
#include "duplex/base/error.h"
#include "duplex/inet/address.h"
#include "duplex/inet/endpoint.h"
#include "duplex/proto/tls_filter.h"
#include "duplex/reactor/buffer.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_connection.h"
#include "duplex/transport/tcp_server.h"
#include "duplex/transport/udp_socket.h"
#include "output.h"
#include "tls_server.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp = R"(Usage: duplex echo [--tcp PORT] [--udp PORT] [OPTIONS]

An echo server: every byte (TCP) or datagram (UDP) that arrives is sent back to its sender.
It prints where it listens (the real port when 0 was given) and runs until SIGINT (Ctrl-C)
or SIGTERM; then it closes every connection and prints per-connection statistics (bytes
each way, duration) on stderr and exits 0.

Options:
  --tcp PORT         echo over TCP on PORT (0: any free port)
  --udp PORT         echo over UDP on PORT (0: any free port); at least one of the two
  --bind ADDR        listen on this address (default: [::], which also takes IPv4 peers;
                     0.0.0.0 where IPv6 is off). IPv4 or IPv6: 127.0.0.1, ::1, or
                     link-local with its interface: fe80::1%eth0
  --threads N        I/O threads for TCP connections (default 0: one thread does all)
  --reuse-port       one SO_REUSEPORT listener per I/O thread instead of handing
                     connections out round-robin
  --high-water BYTES pause reading a connection whose unsent echo passes BYTES
                     (default 1048576), so a peer that never reads cannot grow our memory
  --backend B        the event loop: epoll or uring (io_uring); default $DUPLEX_BACKEND,
                     else epoll (epoll too where io_uring is refused, said once)
  --tls              TCP over TLS (1.2 or 1.3); prints the certificate's SHA-256 at start
  --cert FILE --key FILE  --tls: the certificate (PEM) and its key; without them the
                     self-signed certificate kept in $XDG_DATA_HOME/duplex/tls (else
                     ~/.local/share/duplex/tls), made on first use
  --handshake-timeout S  --tls: seconds a client has to finish the handshake (default 10)
  --json             print events as one JSON object a line
  -h, --help         this help

Examples:
  duplex echo --tcp 7007
  duplex echo --tcp 0 --udp 0 --bind 127.0.0.1
  duplex echo --tcp 9000 --threads 2 --reuse-port
  duplex echo --tcp 9000 --backend uring              # io_uring instead of epoll
  printf 'hello\n' | nc -N 127.0.0.1 7007
  printf 'hello\n' | nc -u -w1 127.0.0.1 7007
  duplex echo --tcp 7443 --tls
  openssl s_client -connect 127.0.0.1:7443 -CAfile ~/.local/share/duplex/tls/cert.pem

Exit status: 0 stopped by a signal, 1 could not listen (address in use, permission),
2 usage error.
)";

struct ConnectionRecord {
  std::string peer;
  std::uint64_t in = 0;
  std::uint64_t out = 0;
  double seconds = 0;
  std::string reason;
};

// Statistics of closed connections. Written from the I/O threads, read after they stop.
// Bounded: a long benchmark makes millions of connections; keep totals for all of them
// and details for the last kKeep.
class Ledger {
 public:
  static constexpr std::size_t kKeep = 1000;

  void record(const TcpConnection& c) {
    const double seconds =
        std::chrono::duration<double>(c.closed_at() - c.established_at()).count();
    std::lock_guard lock(mutex_);
    ++connections_;
    bytes_in_ += c.bytes_received();
    bytes_out_ += c.bytes_sent();
    if (records_.size() == kKeep) records_.erase(records_.begin());
    records_.push_back(ConnectionRecord{c.peer().to_string(), c.bytes_received(), c.bytes_sent(),
                                        seconds, c.close_reason()});
  }

  void print(bool json) const {
    std::lock_guard lock(mutex_);
    if (json) {
      for (const auto& r : records_) {
        std::cerr << nlohmann::json{{"event", "closed"},  {"protocol", "tcp"},
                                    {"peer", r.peer},     {"bytes_in", r.in},
                                    {"bytes_out", r.out}, {"seconds", r.seconds},
                                    {"reason", r.reason}}
                         .dump()
                  << '\n';
      }
      std::cerr << nlohmann::json{{"event", "stopped"},
                                  {"connections", connections_},
                                  {"bytes_in", bytes_in_},
                                  {"bytes_out", bytes_out_}}
                       .dump()
                << '\n';
      return;
    }
    if (connections_ > records_.size())
      std::cerr << "(" << connections_ - records_.size() << " earlier connections not shown)\n";
    for (const auto& r : records_) {
      char line[256];
      std::snprintf(line, sizeof line, "tcp %-42s in %12llu B  out %12llu B  %9.3f s",
                    r.peer.c_str(), static_cast<unsigned long long>(r.in),
                    static_cast<unsigned long long>(r.out), r.seconds);
      std::cerr << line;
      if (!r.reason.empty()) std::cerr << "  (" << r.reason << ")";
      std::cerr << '\n';
    }
    std::cerr << "echo: stopped; " << connections_ << " TCP connection"
              << (connections_ == 1 ? "" : "s") << ", " << bytes_in_ << " B in, " << bytes_out_
              << " B out\n";
  }

 private:
  mutable std::mutex mutex_;
  std::vector<ConnectionRecord> records_;
  std::uint64_t connections_ = 0;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
};

void announce(bool json, const char* protocol, const inet::Endpoint& where) {
  if (json) {
    print_json({{"event", "listening"},
                {"protocol", protocol},
                {"endpoint", where.to_string()},
                {"port", where.port()}});
  } else {
    std::cout << "echo: listening on " << protocol << ' ' << where.to_string() << '\n';
  }
  std::cout.flush();
}

void serve_tcp_echo(TcpServer& server, std::size_t high_water, Ledger& ledger, bool json) {
  server.set_connection_callback([&ledger, high_water, json](const TcpConnectionPtr& c) {
    if (c->connected()) {
      // Echo consumes every byte it reads: read into the loop's shared buffer.
      c->set_shared_input(true);
      // Back-pressure: a peer that sends but does not read makes our output grow; stop
      // reading from it until what we owe it has drained.
      c->set_high_water_mark(high_water, [](const TcpConnectionPtr& conn, std::size_t) {
        conn->pause_reading();
        conn->set_write_complete_callback([](const TcpConnectionPtr& drained) {
          drained->set_write_complete_callback(nullptr);
          drained->resume_reading();
        });
      });
    } else {
      log_tls_failure("echo", *c, json);
      ledger.record(*c);
    }
  });
  server.set_message_callback(
      [](const TcpConnectionPtr& c, Buffer& input, Clock::time_point) { c->send(input); });
}

}  // namespace

int echo_main(Argv argv) {
  Args args("duplex echo", argv,
            {{"tcp", 0, true},
             {"udp", 0, true},
             {"bind", 0, true},
             {"threads", 0, true},
             {"reuse-port", 0, false},
             {"high-water", 0, true},
             {"tls", 0, false},
             kBackendOption,
             {"cert", 0, true},
             {"key", 0, true},
             {"handshake-timeout", 0, true},
             {"json", 0, false}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  args.expect_positionals(0, 0, "no arguments; use --tcp PORT or --udp PORT");
  apply_backend_flag(args);
  const auto tcp_port = args.number("tcp", 0, 65535);
  const auto udp_port = args.number("udp", 0, 65535);
  if (!tcp_port && !udp_port) args.fail("give --tcp PORT and/or --udp PORT (0 picks a free port)");
  const std::size_t threads = args.number("threads", 0, 256).value_or(0);
  const std::size_t high_water = args.number("high-water", 1024, 1ull << 40).value_or(1 << 20);
  const bool json = args.has("json");
  check_server_tls_flags(args);
  if (args.has("tls") && !tcp_port) args.fail("--tls is for --tcp (DTLS is not supported)");
  const auto bind = [&](std::uint64_t port) {
    return bind_endpoint(args.value("bind"), static_cast<std::uint16_t>(port));
  };

  EventLoop loop;
  // Before any thread starts, so that all of them inherit the blocked signals.
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&loop](int) { loop.quit(); });

  Ledger ledger;
  std::unique_ptr<TcpServer> server;
  if (tcp_port) {
    TcpServerOptions options;
    options.threads = threads;
    options.reuse_port = args.has("reuse-port");
    if (args.has("tls")) {
      const ServerTls identity = server_tls_context(args);
      print_fingerprint("echo", identity, json);
      options.filter = tls::filter_factory(identity.context);
      options.handshake_timeout = handshake_timeout_flag(args);
    }
    server = std::make_unique<TcpServer>(&loop, bind(*tcp_port), "echo", options);
    serve_tcp_echo(*server, high_water, ledger, json);
  }
  std::unique_ptr<UdpSocket> udp;
  std::uint64_t udp_datagrams = 0, udp_bytes = 0, udp_lost = 0;
  if (udp_port) {
    udp = std::make_unique<UdpSocket>(&loop, bind(*udp_port));
    udp->start_reading([&](std::span<const Datagram> batch) {
      int err = 0;
      const std::size_t sent = udp->send_batch(batch, &err);
      udp_datagrams += batch.size();
      udp_lost += batch.size() - sent;  // a full send buffer drops them, as UDP may
      for (const Datagram& d : batch) udp_bytes += d.data.size();
    });
  }
  if (server) {
    server->start();
    announce(json, "tcp", server->listen_endpoint());
  }
  if (udp) announce(json, "udp", udp->local());

  loop.loop();
  if (server) {
    server->stop();  // closes the connections; their callbacks fill the ledger
    ledger.print(json);
  }
  if (udp) {
    if (json) {
      std::cerr << nlohmann::json{{"event", "stopped"},
                                  {"protocol", "udp"},
                                  {"datagrams", udp_datagrams},
                                  {"bytes", udp_bytes},
                                  {"not_echoed", udp_lost}}
                       .dump()
                << '\n';
    } else {
      std::cerr << "echo: stopped; " << udp_datagrams << " UDP datagrams (" << udp_bytes
                << " B) echoed";
      if (udp_lost) std::cerr << ", " << udp_lost << " not echoed (send buffer full)";
      std::cerr << '\n';
    }
  }
  return 0;
}

}  // namespace duplex::cli
