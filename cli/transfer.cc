// `duplex send` and `duplex receive`: files and directories over TCP (or TLS), resumable,
// each file checked with SHA-256 (apps/transfer). Either side may listen; the other connects.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "args.h"
#include "bind_address.h"
#include "commands.h"
#include "duplex/apps/transfer/receiver.h"
#include "duplex/apps/transfer/sender.h"
#include "duplex/base/error.h"
#include "duplex/base/strings.h"
#include "duplex/proto/tls_filter.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_client.h"
#include "duplex/transport/tcp_server.h"
#include "output.h"
#include "tls_flags.h"
#include "tls_server.h"

namespace duplex::cli {
namespace {

constexpr const char* kSendHelp =
    R"(Usage: duplex send HOST PORT PATH...        (to a `duplex receive` that listens)
       duplex send -l [-p PORT] PATH...      (wait for `duplex receive HOST PORT`)

Sends files and directories (a directory with everything below it, as scp -r) to a duplex
receive. What the receiver has already is not sent again: a file with the same bytes is
skipped, and a part left by a broken transfer is resumed where it stopped, once the SHA-256
of both sides' first bytes agree. Every file ends with its SHA-256; the receiver renames it
into place only when it matches, and the command succeeds only when the receiver has
confirmed every file. Symbolic links and special files inside directories are left out
(and listed); a link named on the command line is followed.

Options:
  -l, --listen         wait for the receiver to connect, instead of connecting
  -p, --port PORT      -l: the port (default 9000; 0 picks a free one and prints it)
      --bind ADDR      -l: the address to listen on (default: every address)
  -k, --keep-open      -l: serve the same files to receiver after receiver (several at
                       once too); without it, one transfer, and a second connection
                       while it runs is refused
      --limit-rate R   at most R bytes a second: 500K, 10M, 1G (K, M, G: 1024-based)
      --timeout S      give up after S seconds without a byte either way (default 30)
      --tls            over TLS 1.2/1.3; connecting: --ca FILE, --pin SHA256 or
                       --insecure check the receiver; listening: --cert FILE --key FILE
                       (else the self-signed certificate kept in the data directory)
      --json           one JSON object per line: each file, then the end
  -q, --quiet          no progress line on stderr (it shows on a terminal only)

Examples:
  duplex receive --dir ~/inbox                # on the receiving machine: listens on 9000
  duplex send 192.0.2.10 9000 report.pdf photos/
  duplex send --limit-rate 2M server 9000 big.iso   # again after a break: resumes
  duplex send -l -p 9000 -k release/          # several receivers fetch the same tree
  duplex send --tls --pin AB:CD:... host 9000 secrets.tar

Exit status: 0 the receiver confirmed every file, 1 the transfer failed, 2 usage error.
)";

constexpr const char* kReceiveHelp =
    R"(Usage: duplex receive [-p PORT] [--dir DIR]     (a `duplex send HOST PORT` connects)
       duplex receive HOST PORT [--dir DIR]    (from a `duplex send -l` that waits)

Receives the files and directories that a duplex send offers, into DIR (default: the
current directory). Every path stays under DIR (an absolute path or a ".." is refused).
Each file is written beside its final name as .NAME.duplex-part and renamed into place,
with the sender's permission bits and modification time, only when its SHA-256 matches the
sender's; a part left by a broken transfer is resumed by the next one. A file that exists
with the same bytes is skipped; one with other bytes stops the transfer unless --overwrite.
An offer larger than the free space of DIR is refused before a byte is written.

Options:
  -p, --port PORT      listening: the port (default 9000; 0 picks a free one and prints it)
      --bind ADDR      listening: the address to listen on (default: every address)
  -k, --keep-open      listening: receive from sender after sender (several at once too,
                       each part file locked while it is written); without it, one
                       transfer, and a second connection while it runs is refused
  -d, --dir DIR        where the files go (it must exist; default .)
      --overwrite      replace files that exist with other bytes
      --timeout S      give up after S seconds without a byte either way (default 30)
      --tls            over TLS 1.2/1.3; listening: --cert FILE --key FILE (else the
                       self-signed certificate kept in the data directory), whose SHA-256
                       it prints for the sender's --pin; connecting: --ca, --pin, --insecure
      --json           one JSON object per line: listening, each file, the end
  -q, --quiet          no progress line on stderr (it shows on a terminal only)

Examples:
  duplex receive --dir ~/inbox                # then: duplex send THIS-HOST 9000 FILES...
  duplex receive -p 0 --json                  # prints the port it got
  duplex receive --tls -k --dir /srv/drop     # keeps receiving; senders use --pin
  duplex receive fileserver 9000 --dir .      # fetch from a `duplex send -l`

Exit status: 0 every file received and verified, 1 the transfer failed, 2 usage error.
)";

struct Common {
  bool json = false;
  bool progress = false;
  bool listen = false;
  bool keep_open = false;
  Clock::duration timeout = std::chrono::seconds(30);
};

std::uint64_t parse_rate(const Args& args) {
  const auto text = args.value("limit-rate");
  if (!text) return 0;
  std::string digits = *text;
  std::uint64_t unit = 1;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k':
      case 'K':
        unit = 1024;
        break;
      case 'm':
      case 'M':
        unit = 1024 * 1024;
        break;
      case 'g':
      case 'G':
        unit = 1024 * 1024 * 1024;
        break;
      default:
        break;
    }
    if (unit != 1) digits.pop_back();
  }
  const auto n = parse_uint(digits, UINT64_MAX / unit);
  if (!n || *n == 0) args.fail("--limit-rate takes bytes a second, such as 500K, 10M or 1G");
  return *n * unit;
}

// One JSON line, flushed at once: a script waits on each (the port, each file).
void emit(const nlohmann::json& j) {
  print_json(j);
  std::cout.flush();
}

std::string size_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return text;
}

std::string rate_text(double bytes, double seconds) {
  return seconds > 0 ? size_text(bytes / seconds) + "/s" : "-";
}

// Prints a session's files and end; keeps a progress line on stderr when asked.
class Printer {
 public:
  Printer(const char* command, const Common& common) : command_(command), common_(common) {}

  transfer::Events events(bool sending) {
    transfer::Events ev;
    ev.file = [this, sending](const transfer::FileReport& f) { file(f, sending); };
    ev.end = [this](const transfer::Outcome& o) { end(o); };
    return ev;
  }

  void progress(const transfer::Session& s) {
    if (!common_.progress || s.finished() || s.bytes_total() == 0) return;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::fprintf(stderr, "\r%s  %s of %s (%.0f%%)  %s  \x1b[K", command_,
                 size_text(static_cast<double>(s.bytes_done())).c_str(),
                 size_text(static_cast<double>(s.bytes_total())).c_str(),
                 100.0 * static_cast<double>(s.bytes_done()) / static_cast<double>(s.bytes_total()),
                 rate_text(static_cast<double>(s.bytes_done()), seconds).c_str());
    shown_ = true;
  }

  void restart() { started_ = std::chrono::steady_clock::now(); }

  // Ctrl-C during a transfer: its end, as the other ends are told.
  void interrupted() {
    transfer::Outcome o;
    o.error = "interrupted; what arrived is kept and the next transfer resumes it";
    end(o);
  }
  bool any_failed() const noexcept { return failed_; }
  int ended() const noexcept { return ended_; }

 private:
  void clear_progress() {
    if (shown_) std::fprintf(stderr, "\r\x1b[K");
    shown_ = false;
  }

  void file(const transfer::FileReport& f, bool sending) {
    clear_progress();
    if (common_.json) {
      emit({{"event", "file"},
            {"path", f.path},
            {"size", f.size},
            {"resumed_at", f.offset},
            {"skipped", f.skipped},
            {"seconds", f.seconds}});
      return;
    }
    std::string line = (f.skipped ? "skipped  "
                        : sending ? "sent     "
                                  : "received ") +
                       f.path + "  " + size_text(static_cast<double>(f.size));
    if (f.skipped)
      line += "  (the receiver has the same bytes)";
    else if (f.offset > 0)
      line += "  (resumed at " + size_text(static_cast<double>(f.offset)) + ")";
    if (!f.skipped && f.seconds > 0.05)
      line += "  " + rate_text(static_cast<double>(f.size - f.offset), f.seconds);
    std::cout << line << std::endl;
  }

  void end(const transfer::Outcome& o) {
    clear_progress();
    ++ended_;
    if (!o.ok) failed_ = true;
    if (common_.json) {
      nlohmann::json j{{"event", "end"},       {"ok", o.ok},       {"files", o.files},
                       {"skipped", o.skipped}, {"bytes", o.bytes}, {"seconds", o.seconds}};
      if (!o.ok) j["error"] = o.error;
      emit(j);
      return;
    }
    if (!o.ok) {
      std::cerr << command_ << ": " << o.error << std::endl;
      return;
    }
    std::cout << o.files << (o.files == 1 ? " file" : " files");
    if (o.skipped > 0) std::cout << " (" << o.skipped << " skipped)";
    if (o.bytes == 0 && o.skipped == o.files) {
      std::cout << ", nothing to move: the receiver had every one" << std::endl;
      return;
    }
    std::cout << ", " << size_text(static_cast<double>(o.bytes)) << " in "
              << (o.seconds < 10 ? std::to_string(o.seconds).substr(0, 4)
                                 : std::to_string(static_cast<long>(o.seconds)))
              << " s (" << rate_text(static_cast<double>(o.bytes), o.seconds)
              << "), every SHA-256 verified" << std::endl;
  }

  const char* command_;
  const Common& common_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool shown_ = false;
  bool failed_ = false;
  int ended_ = 0;
};

Common common_flags(const Args& args) {
  Common c;
  c.json = args.has("json");
  c.progress = !c.json && !args.has("quiet") && ::isatty(STDERR_FILENO) != 0;
  c.listen = args.has("listen");
  c.keep_open = args.has("keep-open");
  if (auto t = args.number("timeout", 1, 86400)) c.timeout = std::chrono::seconds(*t);
  return c;
}

std::vector<Option> common_options() {
  return {{"port", 'p', true},    {"bind", 0, true}, {"keep-open", 'k', false},
          {"timeout", 0, true},   {"tls", 0, false}, {"json", 0, false},
          {"quiet", 'q', false},  {"ca", 0, true},   {"pin", 0, true},
          {"insecure", 0, false}, {"cert", 0, true}, {"key", 0, true}};
}

// Runs sessions made by `make` on one loop, listening or connecting, until the first ends
// (or, with -k, until a signal). Returns the exit status.
int run(const char* command, const Args& args, const Common& common,
        std::optional<std::pair<std::string, std::uint16_t>> peer,
        const std::function<transfer::SessionPtr(Printer&)>& make) {
  if (!common.listen && !peer) args.fail("name the HOST and PORT to connect to, or listen");
  if (common.keep_open && !common.listen) args.fail("-k is for listening");
  if ((args.has("cert") || args.has("key")) && !common.listen)
    args.fail(
        "--cert and --key are for the listening side; a connecting one checks with --ca or --pin");
  if (!args.has("tls") && (args.has("cert") || args.has("key") || args.has("ca") ||
                           args.has("pin") || args.has("insecure")))
    args.fail("the TLS options need --tls");
  EventLoop loop;
  Printer printer(command, common);
  transfer::SessionPtr live;  // the latest session (the only one without -k)
  const auto make_tracked = [&](const TcpConnectionPtr& c) -> transfer::SessionPtr {
    if (live && !common.keep_open) {
      std::cerr << command << ": refused " << c->peer().to_string()
                << ": one transfer at a time (-k takes one after another)" << std::endl;
      return nullptr;
    }
    c->set_idle_timeout(common.timeout);
    printer.restart();
    live = make(printer);
    return live;
  };
  const auto on_down = [&](const transfer::SessionPtr& s) {
    if (!common.keep_open && s == live) loop.quit();
  };
  bool interrupted = false;
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&](int) {
    interrupted = true;
    loop.quit();
  });
  std::unique_ptr<TcpServer> server;
  std::unique_ptr<TcpClient> client;
  if (common.listen) {
    const auto port = args.number("port", 0, 65535).value_or(9000);
    TcpServerOptions options;
    if (args.has("tls")) {
      const ServerTls identity = server_tls_context(args);
      print_fingerprint(command, identity, common.json);
      options.filter = tls::filter_factory(identity.context);
    }
    server = std::make_unique<TcpServer>(
        &loop, bind_endpoint(args.value("bind"), static_cast<std::uint16_t>(port)), command,
        std::move(options));
    transfer::run_sessions(*server, make_tracked, on_down);
    server->start();
    const auto where = server->listen_endpoint();
    if (common.json)
      emit({{"event", "listening"},
            {"address", where.address().to_string()},
            {"port", where.port()}});
    else
      std::cerr << command << ": listening on " << where.to_string() << std::endl;
  } else {
    if (args.has("port") || args.has("bind")) args.fail("-p and --bind are for listening (-l)");
    client =
        std::make_unique<TcpClient>(&loop, TcpClient::resolve(peer->first, peer->second), command);
    if (args.has("tls")) {
      auto context = client_tls_context(args, command);
      const std::string host = peer->first;
      client->set_filter([context, host] { return std::make_unique<tls::Filter>(context, host); });
    }
    client->set_connect_failed_callback([&](const std::string& why) {
      std::cerr << command << ": cannot connect to " << peer->first << " port " << peer->second
                << ": " << why << std::endl;
      loop.quit();
    });
    transfer::run_sessions(*client, make_tracked, on_down);
    client->connect();
  }
  if (common.progress)
    loop.run_every(std::chrono::milliseconds(250), [&] {
      if (live) printer.progress(*live);
    });
  loop.loop();
  if (interrupted && live && !live->finished()) printer.interrupted();
  // With -k a signal is the way to stop: each transfer said how it ended as it did.
  if (common.keep_open && interrupted) return 0;
  if (printer.ended() == 0 || printer.any_failed()) return 1;
  return 0;
}

std::optional<std::pair<std::string, std::uint16_t>> host_port(const Args& args,
                                                               const std::vector<std::string>& p) {
  const auto port = parse_uint(p[1], 65535);
  if (!port || *port == 0) args.fail("the port " + p[1] + " is not a number from 1 to 65535");
  return std::make_pair(p[0], static_cast<std::uint16_t>(*port));
}

}  // namespace

int send_main(Argv argv) {
  auto options = common_options();
  options.push_back({"listen", 'l', false});
  options.push_back({"limit-rate", 0, true});
  Args args("duplex send", argv, options);
  if (args.help()) {
    std::cout << kSendHelp;
    return 0;
  }
  const Common common = common_flags(args);
  const auto& p = args.positionals();
  std::optional<std::pair<std::string, std::uint16_t>> peer;
  std::vector<std::string> paths;
  if (common.listen) {
    args.expect_positionals(1, SIZE_MAX, "the files and directories to send");
    paths = p;
  } else {
    args.expect_positionals(3, SIZE_MAX, "HOST PORT and the files and directories to send");
    peer = host_port(args, p);
    paths.assign(p.begin() + 2, p.end());
  }
  transfer::SendOptions send_options;
  send_options.rate = parse_rate(args);
  auto source = std::make_shared<const transfer::Source>(transfer::collect(paths));
  for (const auto& line : source->left_out) std::cerr << "duplex send: left out " << line << '\n';
  if (source->offer.files() == 0 && source->offer.entries.empty()) throw Error("nothing to send");
  return run("duplex send", args, common, peer, [&](Printer& printer) -> transfer::SessionPtr {
    return std::make_shared<transfer::Sender>(source, send_options, printer.events(true));
  });
}

int receive_main(Argv argv) {
  auto options = common_options();
  options.push_back({"dir", 'd', true});
  options.push_back({"overwrite", 0, false});
  Args args("duplex receive", argv, options);
  if (args.help()) {
    std::cout << kReceiveHelp;
    return 0;
  }
  Common common = common_flags(args);
  const auto& p = args.positionals();
  std::optional<std::pair<std::string, std::uint16_t>> peer;
  if (p.empty()) {
    common.listen = true;
  } else {
    args.expect_positionals(2, 2, "HOST PORT (or none, to listen)");
    peer = host_port(args, p);
  }
  transfer::ReceiveOptions receive_options;
  receive_options.dir = args.value("dir").value_or(".");
  receive_options.overwrite = args.has("overwrite");
  std::error_code ec;
  if (!std::filesystem::is_directory(receive_options.dir, ec))
    args.fail("--dir " + receive_options.dir + " is not a directory; make it first");
  return run("duplex receive", args, common, peer, [&](Printer& printer) -> transfer::SessionPtr {
    return std::make_shared<transfer::Receiver>(receive_options, printer.events(false));
  });
}

}  // namespace duplex::cli
