// `duplex connect`: stdin/stdout to a TCP connection (or UDP peer), both ways at once.
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "args.h"
#include "commands.h"
#include "duplex/apps/netcat/stream_relay.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/connector.h"
#include "netcat.h"
#include "netcat_tls.h"
#include "netcat_udp.h"
#include "netcat_zero.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp = R"(Usage: duplex connect [OPTIONS] HOST PORT
       duplex connect -z [OPTIONS] HOST PORT|FIRST-LAST
       duplex connect -U [OPTIONS] PATH

Connects to HOST PORT and bridges stdin and stdout to the connection in both directions
at once (full duplex). HOST is a name or an address, a link-local one with its interface
(fe80::1%eth0); every address it resolves to is tried in turn, each for at most --wait
seconds. PORT is a number or a service name from /etc/services (http, ssh). Short flags
bundle as nc's do: -vz, -vnw 2.

End of file, stated plainly (the part nc and ncat users trip over):
  - EOF on stdin: the bytes already read are sent, then FIN (a half-close, shutdown of
    the write side). Reading from the peer goes on.
  - FIN from the peer: what arrived is written to stdout, then stdout is closed (its
    reader sees EOF). Reading stdin and sending goes on.
  - The session ends when both directions are finished: stdin hit EOF and the peer
    sent FIN. When stdin is a terminal, the peer's FIN alone ends it.
  - --no-shutdown: stdin EOF sends no FIN; the session ends at the peer's FIN.
  - --quit-after S: end S seconds after stdin EOF even if the peer has not closed
    (like nc -q; 0 ends as soon as our FIN is out).
  - --idle-timeout S: end (status 1) after S seconds without a byte either way.
  - A reset (RST) from the peer ends the session with status 1.
  - SIGINT (Ctrl-C) or SIGTERM end it at once, status 0.
Nothing buffers without bound: stdin is not read while 1 MiB waits for the socket, and
the socket is not read while 1 MiB waits for stdout (TCP's window then slows the peer).
stdin and stdout may be terminals, pipes, sockets or regular files.

Options:
  -u, --udp            UDP: each read of stdin is one datagram; datagrams from the peer
                       go to stdout. No FIN in UDP: the session ends --quit-after
                       seconds after stdin EOF (default 1), or at once with status 1
                       when ICMP says the port is closed ("Connection refused")
  --broadcast          UDP: allow sending to a broadcast address (SO_BROADCAST);
                       replies are taken from any address
  --multicast GROUP    UDP: send to GROUP (HOST is then left out); replies from anyone
  --interface NAME     UDP multicast: the interface to send by ("lo")
  --ttl N              UDP multicast: hops (default 1: this link only)
  -4, -6               only IPv4 / only IPv6 addresses of HOST
  -n, --numeric        HOST must be an address: no name lookup (as nc -n)
  -s, --source ADDR    bind our side to ADDR before connecting (nc -s); HOST is then
                       looked up in ADDR's family
  -p, --source-port P  bind our side to port P (nc -p; a number or a service name)
  -U, --unix           HOST is the PATH of a Unix-domain stream socket (nc -U); -u, -z,
                       -s and -p do not apply
  -w, --wait S         connect timeout per address in seconds (default 10)
  -q, --quit-after S   end S seconds after stdin EOF
  -i, --idle-timeout S end after S seconds of silence both ways (status 1)
  --no-shutdown        do not send FIN at stdin EOF
  --hex                dump the traffic to stderr: direction (> sent, < received),
                       offset, hex and ASCII
  -z, --zero-io        only check whether PORT (or each port of FIRST-LAST) accepts a
                       connection; prints one line a port (open/closed/timeout), at most
                       64 checks at a time, each for --wait seconds (default 2 here).
                       With -u, as nc -zu: an empty datagram to each port; closed when
                       ICMP port unreachable comes back, else open (-v tells a reply
                       from silence, which may also be a firewall: open|filtered)
  --backend B          the event loop: epoll or uring (io_uring); default
                       $DUPLEX_BACKEND, else epoll (also where io_uring is refused)
  --tls                TLS over the connection (as ncat --ssl): TLS 1.2 or 1.3, SNI
                       and the certificate check from HOST, the server verified against
                       the system CAs. stdin's EOF sends close_notify, then FIN; the
                       server's close_notify is its EOF. With -v: protocol, cipher, the
                       server's certificate subject and SHA-256 fingerprint
  --ca FILE            --tls: trust the CA certificates in FILE (PEM) instead of the
                       system's (for a server with its own CA or a self-signed one)
  --pin SHA256         --tls: trust exactly the certificate with this SHA-256 fingerprint
                       (what `duplex listen --tls` prints), whatever signed it and
                       whatever names it holds
  --insecure           --tls: check neither the certificate nor the name (says so on
                       stderr: anyone on the path can read and change the connection)
  --cert FILE --key FILE  --tls: present this client certificate (PEM, chain after it)
                       and its key when the server asks for one (listen --client-ca,
                       s_server -Verify)
  --handshake-timeout S  --tls: give up when the handshake takes longer (default 10)
  -v, --verbose        connection events on stderr
  --json               connection events on stderr as one JSON object a line
  -h, --help           this help

Examples:
  duplex connect example.org 80 <<< $'HEAD / HTTP/1.0\r\n'
  duplex connect -v 127.0.0.1 9000 < file.bin          # send a file, print the reply
  tar c dir | duplex connect -q 0 backup 9000           # send, then end at once
  duplex connect --hex ::1 7                            # see the bytes both ways
  duplex connect --backend uring 127.0.0.1 9000 < file.bin  # the loop on io_uring
  duplex connect -u 127.0.0.1 5353 <<< 'ping'
  duplex connect -u --broadcast 127.255.255.255 9999 <<< 'anyone?'
  duplex connect -u --multicast 239.1.2.3 --interface lo 5000 <<< 'hello group'
  duplex connect -z 127.0.0.1 8000-8010
  duplex connect -vz example.org http                   # a service name for the port
  duplex connect -zu -w 1 127.0.0.1 5350-5360           # UDP ports, by ICMP
  duplex connect -s 127.0.0.2 -p 4000 127.0.0.1 9000    # from this address and port
  duplex connect -vn fe80::1%eth0 22                    # link-local, on eth0
  duplex connect -U /run/app.sock <<< 'status'           # a Unix socket
  duplex connect --tls -v example.org 443 <<< $'HEAD / HTTP/1.0\r\nHost: example.org\r\n'
  duplex connect --tls --pin 3F:1A:...:9C 192.0.2.7 9443  # a self-signed duplex listen --tls
  duplex connect --tls --ca ca.pem db.internal 5433        # a private CA
  duplex connect --tls --ca ca.pem --cert me.pem --key me.key db.internal 5433
                                                        # with a client certificate

Exit status: 0 the session ended in order (or -z: at least one port open);
1 refused (for -u: ICMP port unreachable), unreachable, timed out, reset, idle timeout
(or -z: no port open), a TLS handshake that failed (the line names why: not trusted,
expired with its date, for another host with the names it is for, wrong pin, not TLS, the
server wants a client certificate or refused ours) or timed out;
2 usage error: unknown option, missing argument, port 70000, a host that does not resolve.
)";

// -U PATH: the same session over a Unix-domain stream socket.
int unix_connect(const std::string& path, const netcat::Common& common,
                 const netcat::Events& events, const std::shared_ptr<tls::Context>& tls) {
  Socket socket = Socket::unix_stream();
  // EAGAIN: the listener's backlog is full. A Unix connect has no progress to wait on, so
  // it is tried again until --wait passes.
  const auto deadline = Clock::now() + common.wait;
  int err = 0;
  while ((err = socket.connect_path(path)) == EAGAIN && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (err != 0) {
    const std::string why = socket_error("connect " + path, err);
    events.emit("failed", {{"reason", why}}, why);
    if (!events.enabled()) std::cerr << "duplex connect: " << why << '\n';
    return 1;
  }
  events.emit("connected", {{"peer", path}, {"protocol", "unix"}}, "connected to " + path);
  EventLoop loop;
  apps::RelayResult result;
  apps::RelayOptions options = netcat::relay_options(common, events);
  if (tls) netcat::add_tls(options, tls, "", events);
  apps::StreamRelay relay(&loop, STDIN_FILENO, STDOUT_FILENO, std::move(socket),
                          std::move(options));
  SignalWatcher signals(&loop, {SIGINT, SIGTERM},
                        [&](int signo) { relay.stop(signo == SIGINT ? "SIGINT" : "SIGTERM"); });
  relay.start([&](const apps::RelayResult& r) {
    result = r;
    loop.quit();
  });
  loop.loop();
  return netcat::session_ended(events, path, result);
}

// -s ADDR and -p PORT: where our side of the connection is bound (nc's source options).
// The peer's address is then looked up in the source's family.
std::optional<inet::Endpoint> source_of(const Args& args, netcat::Common& common) {
  const auto address = args.value("source");
  const auto port_text = args.value("source-port");
  if (!address && !port_text) return std::nullopt;
  const std::uint16_t port = port_text ? netcat::parse_port(args, *port_text, false) : 0;
  if (!address) return inet::Endpoint(inet::Address(), port);  // any address, as nc -p
  const inet::Endpoint local = netcat::resolve(args, *address, port, common, true).front();
  common.v4_only = local.address().is_v4();
  common.v6_only = local.address().is_v6();
  return local;
}

}  // namespace

int connect_main(Argv argv) {
  auto options = netcat::common_options();
  for (Option o : std::initializer_list<Option>{{"zero-io", 'z', false},
                                                {"broadcast", 0, false},
                                                {"multicast", 0, true},
                                                {"interface", 0, true},
                                                {"ttl", 0, true},
                                                {"source", 's', true},
                                                {"source-port", 'p', true},
                                                {"listen", 'l', false}})
    options.push_back(o);
  Args args("duplex connect", argv, options);
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  if (args.has("listen")) args.fail("-l listens: use 'duplex listen' (e.g. duplex listen -p 9000)");
  netcat::Common common = netcat::parse_common(args);
  netcat::Events events(common, "duplex connect");
  netcat::check_tls_flags(args, common, false);
  if (common.tls && args.has("zero-io"))
    args.fail("-z only checks that ports accept connections; leave out --tls");
  const std::shared_ptr<tls::Context> tls = common.tls ? netcat::client_tls(args, events) : nullptr;
  ::signal(SIGPIPE, SIG_IGN);
  if (common.unix_socket) {
    netcat::refuse_with_unix(
        args, {"zero-io", "broadcast", "multicast", "interface", "ttl", "source", "source-port"});
    args.expect_positionals(1, 1, "PATH (-U connects to a Unix socket)");
    return unix_connect(args.positionals()[0], common, events, tls);
  }
  const auto local = source_of(args, common);
  // --multicast GROUP names the host: `duplex connect -u --multicast 239.1.2.3 5000`.
  const auto group = args.value("multicast");
  if (group) {
    args.expect_positionals(1, 1, "PORT (--multicast names the group)");
  } else {
    args.expect_positionals(2, 2, "HOST and PORT");
  }
  const std::string host = group ? *group : args.positionals()[0];
  const std::string& port_text = args.positionals().back();
  if ((group || args.has("broadcast")) && !common.udp)
    args.fail("--broadcast and --multicast are for UDP; add -u");

  if (args.has("zero-io")) {
    if (!args.has("wait")) common.wait = std::chrono::seconds(2);
    const netcat::PortRange range = netcat::parse_port_range(args, port_text);
    const auto peers = netcat::resolve(args, host, range.first, common, false);
    return netcat::zero_io(peers.front(), range, common, events, local);
  }

  const std::uint16_t port = netcat::parse_port(args, port_text, false);
  const auto peers = netcat::resolve(args, host, port, common, false);
  EventLoop loop;
  if (common.udp) {
    netcat::UdpExtras extras;
    extras.broadcast = args.has("broadcast");
    if (group && !peers.front().address().is_multicast())
      args.fail("--multicast '" + *group + "' is not a multicast group (224.0.0.0/4 or ff00::/8)");
    extras.interface = args.value("interface").value_or("");
    extras.ttl = static_cast<int>(args.number("ttl", 0, 255).value_or(1));
    extras.local = local;
    return netcat::udp_connect(loop, peers.front(), common, events, extras);
  }

  // One run of the loop connects and then relays: the loop cannot be restarted once quit.
  bool connected = false;
  inet::Endpoint peer;
  std::string failure;
  apps::RelayResult result;
  std::unique_ptr<apps::StreamRelay> relay;
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&](int signo) {
    if (relay) {
      relay->stop(signo == SIGINT ? "SIGINT" : "SIGTERM");
    } else {
      failure = "interrupted while connecting";
      loop.quit();
    }
  });
  std::string addresses;
  for (const auto& p : peers) addresses += (addresses.empty() ? "" : ", ") + p.to_string();
  events.emit("resolved", {{"host", host}, {"addresses", addresses}},
              "trying " + addresses + " in turn, each for at most --wait");
  auto connector = std::make_shared<Connector>(&loop, peers, common.wait);
  if (local) connector->set_local(*local);
  connector->on_connected([&](Socket s, const inet::Endpoint& to) {
    connected = true;
    peer = to;
    events.emit("connected", {{"peer", peer.to_string()}, {"protocol", "tcp"}},
                "connected to " + peer.to_string());
    apps::RelayOptions relay_opts = netcat::relay_options(common, events);
    if (tls) {
      // SNI and the certificate check use HOST as given ("[::1]" is the address ::1).
      std::string name = host;
      if (name.size() > 2 && name.front() == '[' && name.back() == ']')
        name = name.substr(1, name.size() - 2);
      netcat::add_tls(relay_opts, tls, name, events);
    }
    relay = std::make_unique<apps::StreamRelay>(&loop, STDIN_FILENO, STDOUT_FILENO, std::move(s),
                                                std::move(relay_opts));
    relay->start([&](const apps::RelayResult& r) {
      result = r;
      loop.quit();
    });
  });
  // Each address that fails is named (as nc -v does) before the next is tried; the last
  // one's error is the "failed" event itself.
  std::size_t attempts = 0;
  connector->on_attempt_failed([&](const inet::Endpoint& to, const std::string& why) {
    if (++attempts % peers.size() != 0)
      events.emit("attempt_failed", {{"peer", to.to_string()}, {"reason", why}},
                  why + "; trying the next address");
  });
  connector->on_failed([&](const std::string& why) {
    failure = why;
    loop.quit();
  });
  connector->start();
  loop.loop();
  connector->stop();
  relay.reset();
  if (!connected) {
    events.emit("failed", {{"reason", failure}}, failure);
    if (!events.enabled()) std::cerr << "duplex connect: " << failure << '\n';
    return 1;
  }
  return netcat::session_ended(events, peer.to_string(), result);
}

}  // namespace duplex::cli
