// `duplex chat`: a terminal client for `duplex serve`'s chat port (one line per message),
// and the discovery of servers on the LAN by UDP broadcast (chat_discover.cc).
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "args.h"
#include "chat.h"
#include "commands.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/proto/tls_filter.h"
#include "duplex/reactor/buffer.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_client.h"
#include "duplex/transport/tcp_connection.h"
#include "netcat.h"
#include "output.h"
#include "tls_flags.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp = R"(Usage: duplex chat [OPTIONS] [HOST[:PORT]]
       duplex chat --discover [--broadcast ADDR] [--discovery-port N] [--timeout T] [--json]

Joins the chat of a `duplex serve` (its TCP chat port, 7000 by default; HOST defaults to
localhost). Every line typed (or piped) on stdin is said in the room; every line the server
sends is printed as it arrives:
  [12:04:31] alice: hello       a message (UTC time of its commit); your own line comes
                                back like this once the server has stored it
  * bob joined lobby            a notice
  ! name taken ...              an error from the server (the exit status is then 1)
Commands go to the server as typed: /nick NAME, /join ROOM, /who, /rooms, /help, /quit.
Browsers in the dashboard's Chat page share the same rooms.

A serve bound beyond loopback wants its token first: --token TOKEN (or the environment's
DUPLEX_TOKEN, which keeps it out of `ps`) sends "/auth TOKEN" before anything else, and
nothing of stdin is said until the server has let us in. A wrong token ends the session
with the server's reason and status 1. On loopback the token is not needed (and harmless).

End of input (Ctrl-D, or the end of a pipe) sends what is left, waits until the server
has sent your own lines back (stored: at most 5 s), then sends /quit and waits (at most
5 s) for the server to close. So `echo hi | duplex chat` prints its line once it is stored.
Ctrl-C leaves at once. The server closing ends the client too, after printing everything
it sent.

--discover finds servers instead: it broadcasts a UDP probe (to 255.255.255.255 unless
--broadcast says otherwise; a second time after a third of --timeout, in case one is lost)
and prints a line per server as it answers, until --timeout:
  192.168.1.20:7000  labhost  0.1.0  http://192.168.1.20:8080/
  192.168.1.21:7000  lab2  0.1.0  https://192.168.1.21:8080/  tls SHA-256 4D:A6:...:25
With --connect to a server that answered "tls", the session is TLS and trusts the
certificate that the answer named (said on stderr), unless --pin, --ca or --insecure says
otherwise. Anyone on the link can answer a probe, so a --token goes only with --pin (or
--ca): compare the fingerprint with the one `duplex serve` printed.
255.255.255.255 leaves by the interface of the default route only; on another subnet give
its broadcast address (`duplex ip 10.0.0.7/24` prints it). Routers do not forward
broadcasts: discovery finds servers on your own link.

Options:
  --name NAME           your name in the room (sent as /nick NAME); [A-Za-z0-9_.-], at
                        most 32 bytes. Default: a guest name the server picks
  --room ROOM           the room to join (sent as /join ROOM); default lobby
  --token TOKEN         the server's token, sent first as /auth TOKEN (default: the
                        environment's DUPLEX_TOKEN, if set)
  --tls                 TLS to the chat port (serve bound beyond loopback has it on). The
                        certificate is checked against the system CAs and HOST, unless:
  --pin SHA256          trust the one certificate with this fingerprint (serve prints it)
  --ca FILE             trust the CAs (or the self-signed certificate) in FILE
  --insecure            check nothing (said on stderr): anyone on the path can read it
  -4, -6                only IPv4 / only IPv6 addresses of HOST
  -w, --wait T          connect timeout per address (default 10s)
  --discover            find servers by UDP broadcast instead of joining one
  --broadcast ADDR      --discover: where the probe goes (default 255.255.255.255; this
                        host only: 127.255.255.255; or one server's address)
  --discovery-port N    --discover: the servers' UDP port (default 7001)
  --timeout T           --discover: how long to collect answers (default 1s)
  --json                --discover: one JSON object per server and line
  --connect             --discover: join the first server that answers (--tls, --pin,
                        --ca, --insecure: how to trust it; see above)
  -h, --help            this help
Durations: 2, 1.5, 2s, 500ms.

Examples:
  duplex chat                                   # the server on this machine, port 7000
  duplex chat --name alice --room ops 192.168.1.20
  duplex chat [::1]:7000                        # a serve started with --bind ::1 (or ::)
  echo 'deploy done' | duplex chat --name ci chat.lan:7000
  DUPLEX_TOKEN=s3cret duplex chat --tls --pin 4D:A6:...:25 192.168.1.20
                                                # a serve started with --bind 0.0.0.0
  duplex chat --discover
  duplex chat --discover --broadcast 192.168.1.255 --timeout 2s --json
  duplex chat --discover --broadcast 127.255.255.255 --connect --name alice
  duplex chat --discover --connect --pin 4D:A6:...:25 --token s3cret
  nc 127.0.0.1 7000                             # plain nc works too

--token, --name and --room are granted before anything of stdin is said: a wrong token or
a taken name ends the session at once, saying nothing, with the server's reason on stderr
and status 1.

Exit status: 0 the server closed the session, or Ctrl-C (--discover: at least one server
answered); 1 could not connect (refused, unreachable, timed out), the connection was reset,
the server refused --token, --name or --room or any line or command sent (an error line: the last
one is repeated on stderr) (--discover: nobody answered); 2 usage error: unknown option,
port 70000, a host that does not resolve.
)";

constexpr std::size_t kHighWater = 1024 * 1024;  // stdin pauses while this much waits
constexpr std::size_t kMaxLine = 64 * 1024;      // a longer server line is printed in parts
constexpr auto kQuitWait = std::chrono::seconds(5);

// Writes all of `data` to stdout now: a reader of our stdout sees each line as it arrives.
// Returns false when stdout is gone (EPIPE). A full pipe blocks us, and so, through TCP's
// window, the server's sends to us: the back-pressure a slow reader should cause.
bool write_stdout(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{STDOUT_FILENO, POLLOUT, 0};
      ::poll(&p, 1, -1);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

// A colour of its own for each name, so that a busy room reads at a glance.
std::string coloured_name(std::string_view name) {
  if (!colour_enabled()) return std::string(name);
  static constexpr const char* kColours[] = {"31", "32", "33", "34", "35", "36"};
  std::size_t h = 5381;
  for (char c : name) h = h * 33 + static_cast<unsigned char>(c);
  return std::string("\x1b[1;") + kColours[h % 6] + "m" + std::string(name) + "\x1b[0m";
}

// One server line, styled when stdout is a terminal (see chat_protocol.h for the forms).
std::string styled(std::string_view line) {
  if (!colour_enabled()) return std::string(line);
  if (line.starts_with("* ")) return dim(line);
  if (line.starts_with("! ")) return red(line);
  if (line.starts_with("[")) {
    const auto stamp_end = line.find("] ");
    if (stamp_end != std::string_view::npos) {
      const auto rest = line.substr(stamp_end + 2);
      const auto name_end = rest.find(": ");
      const auto name = rest.substr(0, name_end);
      const auto text =
          name_end == std::string_view::npos ? std::string_view() : rest.substr(name_end);
      return dim(line.substr(0, stamp_end + 1)) + " " + coloured_name(name) + std::string(text);
    }
  }
  return std::string(line);
}

class Session {
 public:
  Session(EventLoop* loop, const std::vector<inet::Endpoint>& peers,
          const chat::SessionSettings& settings)
      : loop_(loop), settings_(settings), client_(loop, peers, "chat") {
    client_.set_connect_timeout(settings.wait);
    if (settings.tls)
      client_.set_filter([context = settings.tls, name = settings.server_name] {
        return std::make_unique<tls::Filter>(context, name);
      });
    client_.set_connection_callback([this](const TcpConnectionPtr& c) {
      if (c->connected())
        up(c);
      else
        down(c);
    });
    client_.set_message_callback(
        [this](const TcpConnectionPtr& c, Buffer& in, Clock::time_point) { received(c, in); });
    client_.set_write_complete_callback([this](const TcpConnectionPtr&) {
      if (stdin_eof_ || setting_up_) return;
      if (!stdin_channel_)
        read_file_stdin();
      else if (!stdin_channel_->is_reading())
        stdin_channel_->enable_reading();
    });
    client_.set_connect_failed_callback([this](const std::string& why) {
      failure_ = why;
      loop_->quit();
    });
  }

  ~Session() {
    if (stdin_channel_) stdin_channel_->remove();
    loop_->cancel(quit_timer_);  // its callback reaches this session
  }

  void start() { client_.connect(); }

  // SIGINT, SIGTERM: say goodbye and leave now.
  void interrupt() {
    interrupted_ = true;
    if (conn_ && conn_->connected()) {
      conn_->send("/quit\n");
      conn_->shutdown_write();
    } else if (!conn_) {
      client_.stop();
    }
    loop_->quit();
  }

  int exit_status() const {
    if (!was_connected_ && interrupted_) {
      std::cerr << "duplex chat: interrupted while connecting\n";
      return 1;
    }
    if (!was_connected_) {
      std::cerr << "duplex chat: " << failure_
                << "; is duplex serve running? start it with: duplex serve (or find one with: "
                   "duplex chat --discover)\n";
      return 1;
    }
    if (!close_reason_.empty() && !interrupted_) {
      std::cerr << "duplex chat: " << peer_.to_string() << ": " << close_reason_ << '\n';
      return 1;
    }
    if (!heard_ && !interrupted_) {
      std::cerr << "duplex chat: " << peer_.to_string() << ": the server closed without a line"
                << (settings_.tls ? "" : " (a TLS port? add --tls)") << '\n';
      return 1;
    }
    if (!refusal_.empty() && !interrupted_) {
      std::cerr << "duplex chat: " << peer_.to_string() << ": " << refusal_ << '\n';
      if (!joined_ && !settings_.token)
        std::cerr << "duplex chat: give the token that duplex serve printed: --token TOKEN, "
                     "or DUPLEX_TOKEN in the environment\n";
      return 1;
    }
    return 0;
  }

 private:
  void up(const TcpConnectionPtr& c) {
    conn_ = c;
    was_connected_ = true;
    peer_ = c->peer();
    c->set_no_delay(true);
    if (settings_.token) c->send("/auth " + *settings_.token + "\n");
    if (settings_.name) c->send("/nick " + *settings_.name + "\n");
    if (settings_.room) c->send("/join " + *settings_.room + "\n");
    // Nothing of stdin is said before the server has granted --token, --name and --room: a
    // taken name must not post as a guest, and nothing goes to a server that refused us.
    setting_up_ = settings_.token || settings_.name || settings_.room;
    if (!setting_up_) read_input();
  }

  void read_input() {
    if (is_pollable(STDIN_FILENO)) {
      stdin_channel_ = std::make_unique<Channel>(loop_, STDIN_FILENO);
      stdin_channel_->on_read([this] { read_stdin(); });
      stdin_channel_->on_close([this] { read_stdin(); });
      stdin_channel_->on_error([this] { read_stdin(); });
      stdin_channel_->enable_reading();
    } else {
      read_file_stdin();
    }
  }

  // A regular file or /dev/null never blocks: read it now, up to the high-water mark, and
  // the rest as the socket drains (write-complete).
  void read_file_stdin() {
    while (!stdin_eof_ && conn_ && conn_->output_bytes() <= kHighWater) read_stdin();
  }

  void down(const TcpConnectionPtr& c) {
    // What is left of a last line without its newline.
    if (!partial_.empty()) {
      print(partial_);
      partial_.clear();
    }
    close_reason_ = c->close_reason();
    conn_.reset();
    loop_->cancel(quit_timer_);
    loop_->quit();
  }

  // One read per readiness (the descriptor stays blocking, as the shell left it): a
  // terminal gives a line, a pipe what it holds.
  void read_stdin() {
    char buf[16 * 1024];
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      stdin_done();
      return;
    }
    const std::string_view data(buf, static_cast<std::size_t>(n));
    last_sent_ = data.back();
    count_messages(data);
    if (!conn_) return;
    conn_->send(data);
    if (conn_->output_bytes() > kHighWater && stdin_channel_) stdin_channel_->disable_reading();
  }

  void stdin_done() {
    if (stdin_eof_) return;
    stdin_eof_ = true;
    if (stdin_channel_) {
      // Often from the channel's own callback, which Channel allows.
      stdin_channel_->remove();
      stdin_channel_.reset();
    }
    if (!conn_) return;
    if (last_sent_ != '\n' && last_sent_ != '\0') {
      conn_->send("\n");
      count_messages("\n");
    }
    // /quit waits for the acknowledgements (our own lines coming back) of what we said:
    // the server leaves the room at /quit, and a line stored after that is not echoed.
    if (unacknowledged_ == 0) {
      quit();
    } else {
      quit_timer_ = loop_->run_after(kQuitWait, [this] { quit(); });
    }
  }

  void quit() {
    if (quit_sent_ || !conn_) return;
    quit_sent_ = true;
    loop_->cancel(quit_timer_);
    conn_->send("/quit\n");
    conn_->shutdown_write();
    // The server closes after /quit; one that does not is closed for it.
    quit_timer_ = loop_->run_after(kQuitWait, [this] {
      if (conn_) conn_->force_close();
    });
  }

  // Counts the lines of `data` that the server will store (not empty, not a /command).
  void count_messages(std::string_view data) {
    for (char ch : data) {
      if (ch == '\n') {
        if (line_first_ != '\0' && line_first_ != '/') ++unacknowledged_;
        line_first_ = '\0';
      } else if (line_first_ == '\0' && ch != '\r') {
        line_first_ = ch;
      }
    }
  }

  // Follows our name ("* you are NAME in ROOM", "* OLD is now NEW") and counts our own
  // lines coming back: the acknowledgements /quit waits for.
  void track(std::string_view line) {
    if (line.starts_with("! ")) {
      refused(line.substr(2));
    } else if (line.starts_with("* you are ")) {
      joined_ = true;  // the session has started: past the server's token gate, if any
      const auto rest = line.substr(10);
      const auto in = rest.find(" in ");
      name_ = std::string(rest.substr(0, in));
      if (in != std::string_view::npos) room_ = std::string(rest.substr(in + 4));
    } else if (line.starts_with("* ") && !name_.empty() &&
               line.substr(2).starts_with(name_ + " is now ")) {
      name_ = std::string(line.substr(2 + name_.size() + 8));
    } else if (line.starts_with("[") && !name_.empty()) {
      const auto stamp_end = line.find("] ");
      if (stamp_end != std::string_view::npos &&
          line.substr(stamp_end + 2).starts_with(name_ + ": ") && unacknowledged_ > 0) {
        if (--unacknowledged_ == 0 && stdin_eof_) quit();
      }
    }
    if (setting_up_ && conn_ && joined_ && (!settings_.name || name_ == *settings_.name) &&
        (!settings_.room || room_ == *settings_.room)) {
      setting_up_ = false;
      read_input();
    }
  }

  // An error line from the server. While --name and --room are being set it ends the
  // session unsaid; later it answers one of our lines (a refused one is never echoed, so
  // it is not waited for), and the exit status reports it.
  void refused(std::string_view why) {
    refusal_ = std::string(why);
    if (setting_up_) {
      setting_up_ = false;
      stdin_eof_ = true;  // nothing of stdin goes out
      quit();
      return;
    }
    if (unacknowledged_ > 0 && --unacknowledged_ == 0 && stdin_eof_) quit();
  }

  void received(const TcpConnectionPtr& c, Buffer& in) {
    for (;;) {
      const std::string_view view = in.view();
      const auto nl = view.find('\n');
      if (nl == std::string_view::npos) {
        if (view.size() >= kMaxLine) {
          print(view);
          in.retrieve_all();
        }
        break;
      }
      std::string_view line = view.substr(0, nl);
      if (line.ends_with('\r')) line.remove_suffix(1);
      heard_ = true;
      const bool ok = print(line);
      track(line);
      in.retrieve(nl + 1);
      if (!ok) {
        c->force_close();
        return;
      }
    }
    // A line without its newline yet: kept in `in`; printed at close if it never ends.
    partial_.assign(in.view());
  }

  bool print(std::string_view line) {
    std::string out = styled(chat::printable(line));
    out += '\n';
    return write_stdout(out);
  }

  EventLoop* loop_;
  const chat::SessionSettings& settings_;
  TcpConnectionPtr conn_;
  std::unique_ptr<Channel> stdin_channel_;
  bool stdin_eof_ = false;
  char last_sent_ = '\0';
  char line_first_ = '\0';          // the first byte of the stdin line being read
  std::size_t unacknowledged_ = 0;  // our lines the server has not sent back yet
  bool quit_sent_ = false;
  std::string name_;  // ours, as the server last told us
  std::string room_;
  bool setting_up_ = false;  // --token, --name, --room sent, not yet granted
  bool joined_ = false;      // "* you are NAME in ROOM" came: the session has started
  bool heard_ = false;       // the server sent at least one line
  std::string refusal_;      // the server's last error line, without "! "
  bool was_connected_ = false;
  bool interrupted_ = false;
  inet::Endpoint peer_;
  std::string failure_;
  std::string close_reason_;
  std::string partial_;
  TimerId quit_timer_;
  // Last, so destroyed first: its connection's callbacks reach every member above.
  TcpClient client_;
};

struct Target {
  std::string host;
  std::optional<std::string> port;
};

// "host", "host:7000", "[::1]:7000", "::1" (colons but no brackets: all of it is the host).
Target split_host_port(std::string_view text) {
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close != std::string_view::npos) {
      Target t{std::string(text.substr(1, close - 1)), std::nullopt};
      if (close + 1 < text.size() && text[close + 1] == ':')
        t.port = std::string(text.substr(close + 2));
      return t;
    }
  }
  const auto colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos)
    return {std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  return {std::string(text), std::nullopt};
}

}  // namespace

namespace chat {

std::string printable(std::string_view text) {
  static constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      out += kReplacement;
      ++i;
    } else if ((u < 0x20 && u != '\t') || u == 0x7f) {
      out += kReplacement;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

Clock::duration parse_duration(const Args& args, const std::string& option,
                               const std::string& text) {
  std::string number = text;
  double scale = 1;
  if (number.ends_with("ms")) {
    number.resize(number.size() - 2);
    scale = 1e-3;
  } else if (number.ends_with('s')) {
    number.pop_back();
  }
  try {
    std::size_t used = 0;
    const double v = std::stod(number, &used) * scale;
    if (used == number.size() && v > 0 && v <= 1e6)
      return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(v));
  } catch (const std::exception&) {
  }
  args.fail("--" + option + " '" + text + "' must be a duration such as 2, 1.5s or 500ms");
}

int run_session(const std::vector<inet::Endpoint>& peers, const SessionSettings& settings) {
  ::signal(SIGPIPE, SIG_IGN);
  EventLoop loop;
  Session session(&loop, peers, settings);
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&](int) { session.interrupt(); });
  session.start();
  loop.loop();
  return session.exit_status();
}

}  // namespace chat

int chat_main(Argv argv) {
  Args args("duplex chat", argv,
            {{"name", 0, true},
             {"room", 0, true},
             {"token", 0, true},
             {"tls", 0, false},
             {"ca", 0, true},
             {"pin", 0, true},
             {"insecure", 0, false},
             {"ipv4", '4', false},
             {"ipv6", '6', false},
             {"wait", 'w', true},
             {"discover", 0, false},
             {"broadcast", 0, true},
             {"discovery-port", 0, true},
             {"timeout", 0, true},
             {"json", 0, false},
             {"connect", 0, false}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  chat::SessionSettings settings;
  settings.name = args.value("name");
  settings.room = args.value("room");
  for (const auto* which : {"name", "room"}) {
    const auto v = args.value(which);
    if (v && (v->empty() || v->size() > apps::chat::kMaxNameBytes ||
              v->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_.-") != std::string::npos))
      args.fail("--" + std::string(which) + " '" + *v + "' must be 1 to " +
                std::to_string(apps::chat::kMaxNameBytes) + " of A-Z a-z 0-9 _ . -");
  }
  if (auto w = args.value("wait")) settings.wait = chat::parse_duration(args, "wait", *w);
  settings.token = args.value("token");
  if (const char* env = std::getenv("DUPLEX_TOKEN"); !settings.token && env && *env != '\0')
    settings.token = env;
  if (settings.token && (settings.token->empty() ||
                         std::any_of(settings.token->begin(), settings.token->end(), [](char c) {
                           return c == ' ' || c == '\t' || c == '\r' || c == '\n';
                         })))
    args.fail("--token (or DUPLEX_TOKEN) must be one word, as duplex serve printed it");

  if (args.has("ca") + args.has("pin") + args.has("insecure") > 1)
    args.fail("--ca, --pin and --insecure exclude each other; give one");
  if (args.has("discover")) {
    args.expect_positionals(0, 0, "no HOST (--discover finds the hosts)");
    for (const auto* only : {"tls", "ca", "pin", "insecure"})
      if (args.has(only) && !args.has("connect"))
        args.fail("--" + std::string(only) +
                  " with --discover goes with --connect (it says how to trust the server "
                  "joined)");
    if (args.has("ca") || args.has("pin") || args.has("insecure"))
      settings.tls = client_tls_context(args, "duplex chat");
    return chat::discover(args, settings);
  }
  for (const auto* only : {"broadcast", "discovery-port", "timeout", "json", "connect"})
    if (args.has(only)) args.fail("--" + std::string(only) + " goes with --discover");
  for (const auto* only : {"ca", "pin", "insecure"})
    if (args.has(only) && !args.has("tls"))
      args.fail("--" + std::string(only) + " is for TLS; add --tls");

  args.expect_positionals(0, 2, "HOST[:PORT] (or HOST PORT)");
  const auto& pos = args.positionals();
  Target target = pos.empty() ? Target{"localhost", std::nullopt} : split_host_port(pos[0]);
  if (pos.size() == 2) {
    if (target.port) args.fail("the port is given twice: '" + pos[0] + "' and '" + pos[1] + "'");
    target.port = pos[1];
  }
  if (target.host.empty()) args.fail("HOST is empty in '" + pos[0] + "'");
  if (args.has("tls")) {
    settings.tls = client_tls_context(args, "duplex chat");
    settings.server_name = target.host;
  }
  netcat::Common common;
  common.v4_only = args.has("ipv4");
  common.v6_only = args.has("ipv6");
  if (common.v4_only && common.v6_only) args.fail("-4 and -6 exclude each other");
  const std::uint16_t port =
      target.port ? netcat::parse_port(args, *target.port, false) : apps::chat::kDefaultChatPort;
  const auto peers = netcat::resolve(args, target.host, port, common, false);
  return chat::run_session(peers, settings);
}

}  // namespace duplex::cli
