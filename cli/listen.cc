// `duplex listen`: waits for TCP connections (or UDP datagrams) and bridges them to
// stdin/stdout, a program per connection (--exec) or each other (--broker).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include "args.h"
#include "commands.h"
#include "duplex/apps/netcat/broker.h"
#include "duplex/apps/netcat/exec_child.h"
#include "duplex/apps/netcat/exec_relay.h"
#include "duplex/apps/netcat/stream_relay.h"
#include "duplex/base/error.h"
#include "duplex/inet/access_list.h"
#include "duplex/reactor/channel.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_connection.h"
#include "netcat.h"
#include "netcat_tls.h"
#include "netcat_udp.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp = R"(Usage: duplex listen [OPTIONS] [ADDRESS] PORT
       duplex listen [OPTIONS] -p PORT [ADDRESS]
       duplex listen [OPTIONS] -U PATH

Waits for a TCP connection on PORT (all addresses, IPv6 and IPv4, unless ADDRESS is
given; PORT 0 picks a free port, shown by -v) and bridges stdin and stdout to it in both
directions at once. Without -k it serves one client and exits. ADDRESS may be link-local
with its interface (fe80::1%eth0); PORT a service name (http). nc's spellings work too:
-p PORT, -s ADDRESS, and bundled short flags (-lvnp 9000; -l is implied).

End of file (as in `duplex connect`):
  - EOF on stdin: the bytes already read are sent, then FIN (a half-close). Reading
    from the client goes on.
  - FIN from the client: what arrived is written to stdout, then stdout is closed
    (with -k it stays open for the next client). Sending stdin goes on.
  - The session ends when both directions are finished. When stdin is a terminal, the
    client's FIN alone ends it.
  - --no-shutdown: no FIN at stdin EOF; --quit-after S: end S seconds after stdin EOF;
    --idle-timeout S: end (status 1) after S seconds of silence; a reset: status 1.
Nothing buffers without bound: at most 1 MiB waits in either direction, then the source
is not read until it drains.

Options:
  -k, --keep-open      serve clients until stopped: one after another (stdin/stdout
                       bridge; a client waits in the backlog until the previous ends), or
                       at the same time with --exec/--sh-exec/--broker
  --max-conns N        at most N clients at the same time (--exec, --broker); one more is
                       closed at once (-v says so)
  --allow CIDRS        serve only clients in these prefixes, comma-separated:
                       127.0.0.0/8,::1/128 (an address alone is a /32 or /128). IPv4
                       clients of the default [::] listener (::ffff:a.b.c.d) are held
                       by the IPv4 prefixes
  --deny CIDRS         never serve clients in these prefixes (deny wins over allow)
  -e, --exec CMD       run CMD per connection with the socket as its stdin and stdout;
                       CMD is split into words without a shell ('...' and "..." quote)
  -c, --sh-exec CMD    the same through /bin/sh -c CMD
  --broker             relay every client's bytes to all the other clients (implies -k;
                       stdin and stdout are not used)
  -u, --udp            UDP: every peer is served, told apart by its address (not only the
                       first, unlike ncat); each peer's datagrams go to stdout, each read
                       of stdin goes to every peer seen so far. Runs until SIGINT/SIGTERM
                       (or --quit-after S after stdin EOF)
  --broadcast          UDP: receive broadcasts (SO_BROADCAST, address reuse)
  --multicast GROUP    UDP: join GROUP (224.0.0.0/4 or ff00::/8) on PORT
  --interface NAME     UDP multicast: the interface to join on ("lo"); default: by route
  --ttl N              UDP multicast: hops for what we send (default 1)
  -4, -6               IPv4 only / IPv6 only
  -p, --port PORT      the port as an option, as in nc -l -p PORT (then no PORT word)
  -s, --local ADDR     the address to listen on, as in nc -l -s ADDR (or give ADDRESS)
  -n, --numeric        ADDRESS must be an address: no name lookup (as nc -n)
  -U, --unix           listen on the Unix-domain stream socket PATH (nc -lU); a stale
                       socket file (nothing accepts on it) is replaced, and the file is
                       removed at exit. Not with -u, --allow/--deny, -p or -s
  -l, --listen         accepted and ignored, for nc habits (duplex listen -lvnp 9000)
  -q, --quit-after S   end S seconds after stdin EOF
  -i, --idle-timeout S end a session after S seconds of silence both ways (status 1)
  --no-shutdown        do not send FIN at stdin EOF
  --hex                dump the traffic to stderr: direction (> sent, < received),
                       offset, hex and ASCII
  --backend B          the event loop: epoll or uring (io_uring); default
                       $DUPLEX_BACKEND, else epoll (also where io_uring is refused)
  --tls                TLS for each client (as ncat --ssl): TLS 1.2 or 1.3 with
                       OpenSSL's secure defaults, renegotiation off, session tickets on,
                       ALPN http/1.1 when a client asks. The certificate's SHA-256
                       fingerprint is printed at start (for `connect --pin`). A client that
                       does not speak TLS is refused with one line and an alert. With
                       -k, --exec/--sh-exec (the program starts once the handshake is
                       done and talks plaintext through pipes) and --broker too
  --cert FILE --key FILE  --tls: the certificate (PEM, chain after it) and its key.
                       Without them: a self-signed ECDSA P-256 certificate for this host's
                       names and addresses, made once and kept in
                       $XDG_DATA_HOME/duplex/tls (else ~/.local/share/duplex/tls, mode
                       0600), so its fingerprint stays the same from run to run
  --client-ca FILE     --tls: require a client certificate issued by a CA in FILE (PEM);
                       a client without one, or with one from another CA, is refused
                       with one line saying which (-k goes on serving). -v names each
                       client's certificate subject and SHA-256
  --handshake-timeout S  --tls: drop a client whose handshake takes longer (default 10)
  -v, --verbose        events (listening, accepted, denied, closed; with --tls the
                       protocol, cipher and client certificate) on stderr
  --json               events on stderr as one JSON object a line
  -h, --help           this help

Examples:
  duplex listen 9000 > received.bin                  # receive one file
  duplex listen -v 127.0.0.1 0                        # any free port, printed on stderr
  duplex listen -k --exec 'cat' 7007                  # an echo service, no shell
  duplex listen -k --sh-exec 'date; uptime' 7008
  duplex listen --broker --max-conns 20 6667          # a tiny chat hub
  duplex listen -k --allow 10.0.0.0/8,127.0.0.1 9000
  duplex listen -k --backend uring --exec cat 7007    # the loop on io_uring
  duplex listen -lvnp 9000                            # nc habits: nc -lvnp 9000
  duplex listen -k -U /tmp/echo.sock --exec cat       # a Unix socket service
  duplex listen -v fe80::1%eth0 9000                  # link-local, on eth0
  duplex listen -u 5353                               # every UDP peer, by address
  duplex listen -u --multicast 239.1.2.3 --interface lo 5000
  duplex listen --tls 9443                            # prints the SHA-256 to --pin
  duplex listen --tls -k --cert site.pem --key site.key 9443
  duplex listen --tls -k -v --client-ca clients-ca.pem 9443   # client certificates only
  duplex listen --tls -k --exec cat 9443              # an echo service over TLS
  duplex listen --tls --broker 9443                   # a chat hub over TLS
  openssl s_client -connect 127.0.0.1:9443            # or: ncat --ssl 127.0.0.1 9443

Exit status: 0 the session ended in order (or SIGINT/SIGTERM stopped the listener);
1 cannot listen (address in use, permission), the session was reset or timed out, its
TLS handshake failed, or (--exec without -k) the program failed; 2 usage error (also an
unreadable --cert, --key or --client-ca, or a key that does not belong to the certificate).
)";

inet::AccessList parse_access(const Args& args) {
  const auto list = [&](std::string_view name) {
    try {
      return inet::AccessList::parse_list(args.value(name).value_or(""));
    } catch (const ParseError& e) {
      args.fail("--" + std::string(name) + ": " + e.what());
    }
  };
  return inet::AccessList(list("allow"), list("deny"));
}

enum class Mode { kRelay, kExec, kBroker };

// The stream side (TCP, or a Unix socket at `unix_path`): one listening socket on the loop
// and what each accepted client gets.
class Server {
 public:
  Server(EventLoop& loop, Socket listener, const netcat::Common& common,
         const netcat::Events& events, std::string unix_path = {})
      : loop_(loop),
        listener_(std::move(listener)),
        channel_(&loop, listener_.fd()),
        common_(common),
        events_(events),
        unix_path_(std::move(unix_path)),
        local_(listener_.local_endpoint()),
        local_name_(unix_path_.empty() ? local_.to_string() : unix_path_) {}

  ~Server() { channel_.remove(); }

  Mode mode = Mode::kRelay;
  bool keep_open = false;
  std::shared_ptr<tls::Context> tls;  // --tls: a session per client
  std::size_t max_conns = 0;
  inet::AccessList access;
  std::vector<std::string> command;

  int run() {
    SignalWatcher signals(&loop_, {SIGINT, SIGTERM, SIGCHLD}, [this](int signo) {
      if (signo == SIGCHLD) return reap();
      stopping_ = true;
      if (relay_) relay_->stop(signo == SIGINT ? "SIGINT" : "SIGTERM");
      for (pid_t pid : children_) ::kill(pid, SIGTERM);
      loop_.quit();
    });
    if (mode == Mode::kBroker) {
      broker_ = std::make_unique<apps::Broker>(&loop_);
      if (tls) netcat::add_tls(*broker_, tls, common_, events_);
      broker_->on_change([this](const TcpConnectionPtr& c, bool up) {
        if (up) return;
        if (tls) netcat::report_tls_failure(*c, common_);
        const std::string peer = unix_path_.empty() ? c->peer().to_string() : unix_path_;
        events_.emit("closed", {{"peer", peer}}, "closed " + peer);
      });
    }
    channel_.on_read([this] { accept_ready(); });
    channel_.enable_reading();
    const char* protocol = unix_path_.empty() ? "tcp" : "unix";
    events_.emit("listening", {{"local", local_name_}, {"protocol", protocol}},
                 std::string("listening on ") + protocol + " " + local_name_);
    loop_.loop();
    broker_.reset();
    exec_relays_.reset();
    return status_;
  }

 private:
  std::size_t active() const {
    return mode == Mode::kBroker ? broker_->size()
           : mode == Mode::kExec ? std::max(children_.size(), exec_relays_->size())
                                 : (relay_ ? 1 : 0);
  }

  void accept_ready() {
    for (;;) {
      inet::Endpoint peer;
      const int fd = listener_.accept(&peer);
      if (fd < 0) return;  // EAGAIN, or an error the next round sees again
      Socket socket(fd);
      // A Unix socket's clients have no address: they are named by the socket's path.
      const std::string name = unix_path_.empty() ? peer.to_string() : unix_path_;
      if (unix_path_.empty() && !access.admits(peer.address())) {
        events_.emit("denied", {{"peer", name}}, "denied " + name + " (--allow/--deny)");
        continue;
      }
      if (max_conns && active() >= max_conns) {
        events_.emit(
            "refused", {{"peer", name}, {"max_conns", max_conns}},
            "closed " + name + " at once: --max-conns " + std::to_string(max_conns) + " reached");
        continue;
      }
      events_.emit("accepted", {{"peer", name}, {"local", local_name_}}, "accepted " + name);
      serve(std::move(socket), peer, name);
      if (!keep_open) {  // one client only: stop listening, as nc does
        channel_.remove();
        listener_ = Socket();
        return;
      }
      if (mode == Mode::kRelay) return;  // the next client waits for this session
    }
  }

  void serve(Socket socket, const inet::Endpoint& peer, const std::string& name) {
    if (mode == Mode::kBroker) return broker_->add(std::move(socket), local_, peer);
    if (mode == Mode::kExec && tls) return exec_tls(std::move(socket), name);
    if (mode == Mode::kExec) {
      try {
        const pid_t pid = apps::spawn_with_socket(socket.fd(), command);
        children_.insert(pid);
        events_.emit("exec", {{"peer", name}, {"pid", pid}},
                     "started '" + command[0] + "' (pid " + std::to_string(pid) + ") for " + name);
      } catch (const std::exception& e) {
        std::cerr << "duplex listen: " << e.what() << '\n';
        status_ = 1;
        if (!keep_open) loop_.quit();
      }
      return;  // the socket closes here: the child holds its own copies
    }
    if (keep_open) channel_.disable_reading();
    apps::RelayOptions options = netcat::relay_options(common_, events_);
    options.close_output_on_peer_eof = !keep_open;
    if (tls) netcat::add_tls(options, tls, "", events_);
    relay_ = std::make_unique<apps::StreamRelay>(&loop_, STDIN_FILENO, STDOUT_FILENO,
                                                 std::move(socket), std::move(options));
    relay_->start([this, name](const apps::RelayResult& r) {
      status_ = netcat::session_ended(events_, name, r);
      // Destroyed after this round: the relay's callback is still on the stack.
      loop_.queue_in_loop([this] {
        relay_.reset();
        if (keep_open && !stopping_) {
          channel_.enable_reading();
        } else {
          loop_.quit();
        }
      });
    });
  }

  // --exec over TLS: the program runs behind a relay, once the handshake is done.
  void exec_tls(Socket socket, const std::string& name) {
    apps::RelayOptions options = netcat::relay_options(common_, events_);
    netcat::add_tls(options, tls, "", events_);
    const auto started = [this, name](pid_t pid, const std::string& error) {
      if (pid < 0) {
        std::cerr << "duplex listen: " << error << '\n';
        status_ = 1;
        return;
      }
      children_.insert(pid);
      events_.emit("exec", {{"peer", name}, {"pid", pid}},
                   "started '" + command[0] + "' (pid " + std::to_string(pid) + ") for " + name);
    };
    exec_relays_->start(std::move(socket), command, std::move(options), started,
                        [this, name](const apps::RelayResult& r) {
                          if (netcat::session_ended(events_, name, r) != 0 && !keep_open)
                            status_ = 1;
                          if (!keep_open && children_.empty()) loop_.quit();
                        });
  }

  void reap() {
    int wstatus = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &wstatus, WNOHANG)) > 0) {
      children_.erase(pid);
      const int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
      events_.emit("exited", {{"pid", pid}, {"status", code}},
                   "pid " + std::to_string(pid) + " exited with status " + std::to_string(code));
      if (!keep_open) {
        status_ = code == 0 ? status_ : 1;
        if (children_.empty() && exec_relays_->size() == 0) loop_.quit();
      }
    }
  }

  EventLoop& loop_;
  Socket listener_;
  Channel channel_;
  const netcat::Common& common_;
  const netcat::Events& events_;
  const std::string unix_path_;
  inet::Endpoint local_;
  std::string local_name_;
  std::unique_ptr<apps::StreamRelay> relay_;
  std::unique_ptr<apps::Broker> broker_;
  std::unique_ptr<apps::ExecRelays> exec_relays_ = std::make_unique<apps::ExecRelays>(&loop_);
  std::set<pid_t> children_;
  bool stopping_ = false;
  int status_ = 0;
};

// The socket file of `duplex listen -U`, removed when the listener ends (as socat does), so
// that the next run can bind again.
struct UnixPath {
  explicit UnixPath(std::string p) : path(std::move(p)) {}
  ~UnixPath() { ::unlink(path.c_str()); }
  UnixPath(const UnixPath&) = delete;
  UnixPath& operator=(const UnixPath&) = delete;
  std::string path;
};

// A Unix socket bound to `path`. A socket file left by a listener that is gone (connecting
// to it is refused) is replaced; any other file there is an error.
Socket unix_listener(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    Socket probe = Socket::unix_stream();
    if (probe.connect_path(path) == ECONNREFUSED) ::unlink(path.c_str());
  }
  Socket listener = Socket::unix_stream();
  listener.bind_path(path);
  return listener;
}

}  // namespace

int listen_main(Argv argv) {
  auto options = netcat::common_options();
  for (Option o : std::initializer_list<Option>{{"keep-open", 'k', false},
                                                {"max-conns", 0, true},
                                                {"allow", 0, true},
                                                {"deny", 0, true},
                                                {"exec", 'e', true},
                                                {"sh-exec", 'c', true},
                                                {"broker", 0, false},
                                                {"broadcast", 0, false},
                                                {"multicast", 0, true},
                                                {"interface", 0, true},
                                                {"ttl", 0, true},
                                                {"local", 's', true},
                                                {"port", 'p', true},
                                                {"listen", 'l', false}})
    options.push_back(o);
  Args args("duplex listen", argv, options);
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  const netcat::Common common = netcat::parse_common(args);
  const netcat::Events events(common, "duplex listen");
  const auto& pos = args.positionals();
  if (common.unix_socket) {
    netcat::refuse_with_unix(
        args, {"allow", "deny", "broadcast", "multicast", "interface", "ttl", "local", "port"});
    args.expect_positionals(1, 1, "PATH (-U listens on a Unix socket)");
  } else if (args.has("port")) {  // nc -l -p PORT [ADDRESS]
    args.expect_positionals(0, 1, "[ADDRESS] (-p gives the port)");
  } else {
    args.expect_positionals(1, 2, "[ADDRESS] PORT");
  }
  const bool port_as_option = args.has("port");
  const std::optional<std::string> address_text =
      (pos.size() == 2 || (port_as_option && pos.size() == 1)) ? std::optional(pos[0])
                                                               : args.value("local");
  if (args.has("local") && address_text != args.value("local"))
    args.fail("-s and ADDRESS both give the address to listen on; give one");
  const std::uint16_t port =
      common.unix_socket
          ? 0
          : netcat::parse_port(args, port_as_option ? *args.value("port") : pos.back(), true);
  inet::Endpoint local(inet::Address::parse(common.v4_only ? "0.0.0.0" : "::"), port);
  if (address_text) local = netcat::resolve(args, *address_text, port, common, true).front();
  const inet::AccessList access = parse_access(args);
  const auto max_conns = args.number("max-conns", 1, 1000000).value_or(0);
  if (args.has("exec") && args.has("sh-exec")) args.fail("--exec and --sh-exec exclude each other");
  if (args.has("broker") && (args.has("exec") || args.has("sh-exec")))
    args.fail("--broker relays clients to each other; it takes no --exec");
  netcat::check_tls_flags(args, common, true);
  ::signal(SIGPIPE, SIG_IGN);
  EventLoop loop;

  if (common.udp) {
    if (args.has("exec") || args.has("sh-exec") || args.has("broker"))
      args.fail("--exec, --sh-exec and --broker are for TCP; leave out -u");
    netcat::UdpExtras extras;
    extras.broadcast = args.has("broadcast");
    if (auto g = args.value("multicast")) {
      auto a = inet::Address::try_parse(*g);
      if (!a || !a->is_multicast())
        args.fail("--multicast '" + *g + "' is not a multicast group (224.0.0.0/4 or ff00::/8)");
      extras.multicast = *a;
      if (!address_text)
        local = inet::Endpoint(inet::Address::parse(a->is_v4() ? "0.0.0.0" : "::"), port);
    }
    extras.interface = args.value("interface").value_or("");
    extras.ttl = static_cast<int>(args.number("ttl", 0, 255).value_or(1));
    extras.max_peers = max_conns;
    extras.access = access;
    return netcat::udp_listen(loop, local, common, events, extras);
  }
  if (args.has("broadcast") || args.has("multicast"))
    args.fail("--broadcast and --multicast are for UDP; add -u");

  std::optional<UnixPath> unix_path;
  Socket listener;
  if (common.unix_socket) {
    listener = unix_listener(pos[0]);
    unix_path.emplace(pos[0]);
  } else {
    listener = Socket::tcp(local);
    listener.set_reuse_addr(true);
    if (local.address().is_v6()) listener.set_v6_only(common.v6_only);
    listener.bind(local);
  }
  listener.listen();
  Server server(loop, std::move(listener), common, events, common.unix_socket ? pos[0] : "");
  server.keep_open = args.has("keep-open") || args.has("broker");
  server.max_conns = max_conns;
  server.access = access;
  if (common.tls) server.tls = netcat::server_tls(args, events);
  if (args.has("broker")) server.mode = Mode::kBroker;
  if (auto cmd = args.value("exec")) {
    server.mode = Mode::kExec;
    try {
      server.command = apps::split_command(*cmd);
    } catch (const ParseError& e) {
      args.fail(std::string("--exec: ") + e.what());
    }
  } else if (auto sh = args.value("sh-exec")) {
    server.mode = Mode::kExec;
    server.command = {"/bin/sh", "-c", *sh};
  }
  return server.run();
}

}  // namespace duplex::cli
