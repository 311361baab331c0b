// `duplex chat`'s session: one connection to a chat port (TLS when asked), stdin lines to
// the server and its lines to stdout, with the back-pressure of a slow terminal.
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

#include "chat.h"
#include "duplex/apps/chat/chat_protocol.h"
#include "duplex/proto/tls_filter.h"
#include "duplex/reactor/buffer.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_client.h"
#include "duplex/transport/tcp_connection.h"
#include "output.h"

namespace duplex::cli {
namespace {

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
}  // namespace duplex::cli
