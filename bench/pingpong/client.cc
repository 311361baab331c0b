// The ping-pong load client: N connections to a loopback echo server, each bouncing one
// message of S bytes (send S bytes, wait until all S came back, send again). It runs a
// warm-up, then counts messages and bytes for a fixed duration, and prints one JSON line.
// With --server-pid it reads the server's CPU time (utime+stime from /proc/PID/stat) at the
// exact start and end of the measured window, so CPU per message covers the same interval,
// and how long server and client waited for a CPU in that window (a busy machine shows here).
// Plain epoll, edge-triggered, no allocation after setup. Loopback addresses only.
//
//   pingpong_client --port 9000 --connections 100 --size 64 --warmup 1 --duration 5
//                   --server-pid 1234
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 1;
  size_t size = 64;
  double warmup = 1.0;
  double duration = 5.0;
  long server_pid = 0;
  double hold = 0;  // idle mode: one echo per connection, then hold them open this long
};

struct Conn {
  int fd = -1;
  size_t sent = 0;      // bytes of the current message written so far
  size_t received = 0;  // bytes of the current message echoed so far
  uint64_t messages = 0;
  uint64_t messages_at_start = 0;
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "pingpong_client: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

[[noreturn]] void usage(const char* msg) {
  std::fprintf(
      stderr,
      "pingpong_client: %s\n"
      "usage: pingpong_client --port P [--host 127.0.0.1|::1] [--connections N]\n"
      "       [--size BYTES] [--warmup SEC] [--duration SEC] [--server-pid PID]\n"
      "       [--hold SEC]  (idle mode: one echo per connection, print a line, then\n"
      "                      hold the connections open, silent, until SEC or EOF on stdin)\n",
      msg);
  std::exit(2);
}

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// utime + stime of a process (all its threads), in seconds; -1 if it cannot be read.
double process_cpu_seconds(long pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // The command name (field 2) may hold spaces; fields after it start past the last ')'.
  auto paren = line.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream rest(line.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Time the process's threads spent runnable but waiting for a CPU (schedstat run_delay), in
// seconds: other work on the machine. Zero on a quiet machine with pinned processes.
double run_delay_seconds(long pid) {
  std::error_code ec;
  unsigned long long total = 0;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "schedstat");
    unsigned long long run = 0, wait = 0;
    if (in >> run >> wait) total += wait;
  }
  return static_cast<double>(total) * 1e-9;
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) usage("missing value after an option");
    const char* v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = std::atoi(v);
    else if (a == "--connections")
      o.connections = std::atoi(v);
    else if (a == "--size")
      o.size = std::strtoul(v, nullptr, 10);
    else if (a == "--warmup")
      o.warmup = std::atof(v);
    else if (a == "--duration")
      o.duration = std::atof(v);
    else if (a == "--server-pid")
      o.server_pid = std::atol(v);
    else if (a == "--hold")
      o.hold = std::atof(v);
    else
      usage("unknown option");
  }
  if (o.port < 1 || o.port > 65535) usage("--port must be 1..65535");
  if (o.connections < 1 || o.connections > 100000) usage("--connections must be 1..100000");
  if (o.size < 1 || o.size > (64u << 20)) usage("--size must be 1 byte..64 MiB");
  if (o.warmup < 0 || o.warmup > 60 || o.duration <= 0 || o.duration > 600 || o.hold < 0 ||
      o.hold > 600)
    usage("--warmup must be 0..60 s, --duration and --hold 0..600 s");
  return o;
}

// Connects one socket, blocking (bounded by SO_SNDTIMEO), then makes it non-blocking.
int connect_one(const sockaddr_storage& addr, socklen_t len) {
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket (raise ulimit -n for many connections)");
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) < 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Idle mode: waits until every connection has had its one echo (so the server has set up
// whatever a live connection costs it), prints {"ready":N}, then holds the connections open
// without traffic until --hold seconds pass or stdin reaches EOF.
template <typename Write, typename Read>
int hold_idle(int ep, std::vector<epoll_event>& events, std::vector<Conn>& conns,
              const Options& opt, Write& pump_write, Read& pump_read) {
  double deadline = now() + 30;
  size_t echoed = 0;
  while (echoed < conns.size()) {
    if (now() > deadline) {
      std::fprintf(stderr, "pingpong_client: only %zu of %zu connections echoed in 30 s\n", echoed,
                   conns.size());
      return 1;
    }
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      auto& c = *static_cast<Conn*>(events[static_cast<size_t>(i)].data.ptr);
      if (!pump_write(c) || !pump_read(c)) die("connection to the server failed");
    }
    echoed = 0;
    for (const auto& c : conns) echoed += c.messages > 0 ? 1 : 0;
  }
  std::printf("{\"ready\":%zu}\n", conns.size());
  std::fflush(stdout);
  pollfd in{STDIN_FILENO, POLLIN, 0};
  double until = now() + opt.hold;
  char byte;
  while (now() < until) {
    int r = poll(&in, 1, static_cast<int>((until - now()) * 1000) + 1);
    if (r > 0 && read(STDIN_FILENO, &byte, 1) <= 0) break;  // EOF: the caller is done
  }
  for (auto& c : conns) close(c.fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse(argc, argv);

  // Network safety: this tool only ever talks to loopback.
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, opt.host.c_str(), &v4->sin_addr) == 1) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) usage("--host must be a loopback address");
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(opt.port));
    addr_len = sizeof *v4;
  } else if (inet_pton(AF_INET6, opt.host.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) usage("--host must be a loopback address");
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(opt.port));
    addr_len = sizeof *v6;
  } else {
    usage("--host must be a numeric loopback address");
  }

  // A hard bound on the whole run, whatever the server does.
  alarm(static_cast<unsigned>(opt.warmup + opt.duration) + 60);
  signal(SIGPIPE, SIG_IGN);

  std::vector<Conn> conns(static_cast<size_t>(opt.connections));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  for (auto& c : conns) {
    c.fd = connect_one(addr, addr_len);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) < 0) die("epoll_ctl");
  }

  std::vector<char> message(opt.size, 'x');
  std::vector<char> scratch(std::max<size_t>(opt.size, 64 * 1024));

  // Writes what remains of the current message; false if the connection failed.
  auto pump_write = [&](Conn& c) {
    while (c.sent < opt.size) {
      ssize_t n = write(c.fd, message.data() + c.sent, opt.size - c.sent);
      if (n < 0) return errno == EAGAIN;
      c.sent += static_cast<size_t>(n);
    }
    return true;
  };
  // Reads until EAGAIN; each complete echo starts the next message.
  auto pump_read = [&](Conn& c) {
    for (;;) {
      ssize_t n = read(c.fd, scratch.data(), std::min(scratch.size(), opt.size - c.received));
      if (n == 0) {
        errno = ECONNRESET;
        return false;
      }
      if (n < 0) return errno == EAGAIN;
      c.received += static_cast<size_t>(n);
      if (c.received == opt.size) {
        ++c.messages;
        c.received = 0;
        if (opt.hold > 0) {  // idle mode: one echo is all
          c.sent = opt.size;
          return true;
        }
        c.sent = 0;
        if (!pump_write(c)) return false;
      }
    }
  };

  double start = now();
  double measure_from = start + opt.warmup;
  double measure_to = measure_from + opt.duration;
  bool measuring = false;
  double server_cpu0 = 0, client_cpu0 = 0, t0 = 0, server_wait0 = 0, client_wait0 = 0;
  uint64_t total0 = 0;

  for (auto& c : conns)
    if (!pump_write(c)) die("write");

  std::vector<epoll_event> events(std::min<size_t>(conns.size(), 1024));
  auto total_messages = [&] {
    uint64_t sum = 0;
    for (const auto& c : conns) sum += c.messages;
    return sum;
  };
  if (opt.hold > 0) return hold_idle(ep, events, conns, opt, pump_write, pump_read);

  double t = start;
  for (;;) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      auto& c = *static_cast<Conn*>(events[static_cast<size_t>(i)].data.ptr);
      if (!pump_write(c) || !pump_read(c)) die("connection to the server failed");
    }
    t = now();
    if (!measuring && t >= measure_from) {
      measuring = true;
      server_cpu0 = process_cpu_seconds(opt.server_pid);
      client_cpu0 = self_cpu_seconds();
      server_wait0 = run_delay_seconds(opt.server_pid);
      client_wait0 = run_delay_seconds(getpid());
      total0 = total_messages();
      for (auto& c : conns) c.messages_at_start = c.messages;
      t0 = now();
    }
    if (measuring && t >= measure_to) break;
  }
  double server_cpu1 = process_cpu_seconds(opt.server_pid);
  double client_cpu1 = self_cpu_seconds();
  double server_wait = opt.server_pid > 0 ? run_delay_seconds(opt.server_pid) - server_wait0 : -1;
  double client_wait = run_delay_seconds(getpid()) - client_wait0;
  double t1 = now();
  uint64_t messages = total_messages() - total0;
  uint64_t conn_min = UINT64_MAX, conn_max = 0;
  for (const auto& c : conns) {
    conn_min = std::min(conn_min, c.messages - c.messages_at_start);
    conn_max = std::max(conn_max, c.messages - c.messages_at_start);
  }
  for (auto& c : conns) close(c.fd);

  double secs = t1 - t0;
  double bytes = static_cast<double>(messages) * static_cast<double>(opt.size);
  double server_cpu = opt.server_pid > 0 ? server_cpu1 - server_cpu0 : -1;
  std::printf(
      "{\"connections\":%d,\"size\":%zu,\"seconds\":%.6f,\"messages\":%llu,\"bytes\":%.0f,"
      "\"msgs_per_s\":%.1f,\"mib_per_s\":%.3f,\"server_cpu_s\":%.4f,\"client_cpu_s\":%.4f,"
      "\"server_wait_s\":%.4f,\"client_wait_s\":%.4f,\"conn_min_msgs\":%llu,"
      "\"conn_max_msgs\":%llu}\n",
      opt.connections, opt.size, secs, static_cast<unsigned long long>(messages), bytes,
      static_cast<double>(messages) / secs, bytes / secs / (1024.0 * 1024.0), server_cpu,
      client_cpu1 - client_cpu0, server_wait, client_wait,
      static_cast<unsigned long long>(conn_min), static_cast<unsigned long long>(conn_max));
  return 0;
}
