// `duplex http serve`: static files over HTTP/1.1 on the reactor.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <string>

#include "args.h"
#include "backend_flag.h"
#include "bind_address.h"
#include "commands.h"
#include "duplex/base/error.h"
#include "duplex/inet/address.h"
#include "duplex/inet/endpoint.h"
#include "duplex/proto/http_router.h"
#include "duplex/proto/http_server.h"
#include "duplex/proto/http_static.h"
#include "duplex/proto/tls_filter.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/tcp_connection.h"
#include "output.h"
#include "tls_server.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp = R"(Usage: duplex http serve [DIR] [OPTIONS]

Serves the files under DIR (default: the current directory, as python3 -m http.server)
over HTTP/1.1 until SIGINT (Ctrl-C) or SIGTERM.

  GET and HEAD; keep-alive and pipelining; files sent with sendfile (read and encrypted
  under --tls); Range (one range: 206,
  several: multipart/byteranges; If-Range; 416 when none is satisfiable); ETag and
  Last-Modified with 304 for If-None-Match and If-Modified-Since, and 412 for If-Match and
  If-Unmodified-Since; MIME types by extension; DIR/x/ serves DIR/x/index.html; DIR/x
  without the slash redirects (301) to DIR/x/; a file with a trailing slash is 404.
  Nothing outside DIR is ever served: ".." segments, encoded or not, backslashes and
  encoded NULs get 403; files are opened with openat2(RESOLVE_BENEATH), so a symlink that
  leads outside DIR gets 403 too. Malformed or ambiguous requests (request smuggling
  attempts) get 400 and the connection is closed: after the answer and FIN, the client
  has 5 seconds to close its side (what it sends meanwhile is dropped), then it is reset.

Options:
  --port P              TCP port (default 8080; 0 picks a free one, printed at start)
  --bind ADDR           listen address (default [::], which takes IPv4 too; e.g. 127.0.0.1)
  --threads N           I/O threads besides the accepting one (default 0: one thread)
  --reuse-port          one SO_REUSEPORT listener per I/O thread
  --listing             list directories that have no index.html (HTML-escaped)
  --echo                also answer POST/PUT /_echo with the request body (chunked), a test
                        route for uploads
  --header-timeout S    seconds for a request's whole head to arrive (default 10): a
                        slowloris client is answered 408 and cut off
  --body-timeout S      seconds for a request's body (default 30)
  --keep-alive S        seconds an idle keep-alive connection stays open (default 60)
  --send-timeout S      seconds a peer may leave a response unread (default 30); then
                        the connection is reset
  --max-body BYTES      largest request body (default 8388608); larger: 413
  --backend B           the event loop: epoll or uring (io_uring); default
                        $DUPLEX_BACKEND, else epoll (also where io_uring is refused)
  --tls                 HTTPS: TLS 1.2 or 1.3 only (1.2: ECDHE with AES-GCM or
                        CHACHA20-POLY1305 only), no renegotiation, session tickets and
                        resumption, ALPN http/1.1. Prints the certificate's SHA-256
                        at start (for curl --pinnedpubkey or a pin).
                        Plain HTTP sent to the port is answered 400 "use https://" and
                        closed (one line on stderr)
  --cert FILE --key FILE  --tls: the certificate (PEM, chain after it) and its key.
                        Without them: a self-signed ECDSA P-256 certificate for this
                        host's names and addresses, made once and kept (mode 0600) in
                        $XDG_DATA_HOME/duplex/tls (else ~/.local/share/duplex/tls)
  --handshake-timeout S --tls: seconds a client has to finish the handshake (default
                        10): a slowloris on TLS is cut off
  --json                print the listening event as JSON
  -h, --help            this help

Examples:
  duplex http serve ./public --port 8080
  duplex http serve --port 0 --bind 127.0.0.1 --listing
  duplex http serve /srv/www --threads 2 --reuse-port --header-timeout 5
  DUPLEX_BACKEND=uring duplex http serve ./public   # io_uring instead of epoll
  curl -r 0-99 http://127.0.0.1:8080/big.iso -o part
  curl -H 'If-None-Match: "..."' -I http://127.0.0.1:8080/index.html
  duplex http serve ./public --tls --port 8443
  curl --cacert ~/.local/share/duplex/tls/cert.pem https://localhost:8443/
  duplex http serve ./public --tls --cert site.pem --key site.key --port 443

Exit status: 0 stopped by a signal, 1 could not listen or open DIR, 2 usage error.
)";

std::chrono::milliseconds seconds_option(const Args& args, std::string_view name,
                                         std::chrono::milliseconds fallback) {
  const auto v = args.value(name);
  if (!v) return fallback;
  std::size_t used = 0;
  double s = 0;
  try {
    s = std::stod(*v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v->size() || !(s > 0) || s > 86400)
    args.fail("--" + std::string(name) + " " + *v + " is not a number of seconds in (0, 86400]");
  return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
}

int serve(Argv argv) {
  Args args("duplex http serve", argv,
            {{"port", 0, true},
             {"bind", 0, true},
             {"threads", 0, true},
             {"reuse-port", 0, false},
             {"listing", 0, false},
             {"echo", 0, false},
             {"header-timeout", 0, true},
             {"body-timeout", 0, true},
             {"keep-alive", 0, true},
             {"send-timeout", 0, true},
             {"max-body", 0, true},
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
  args.expect_positionals(0, 1, "at most one directory to serve, e.g. duplex http serve ./public");
  apply_backend_flag(args);
  const std::string dir = args.positionals().empty() ? "." : args.positionals()[0];
  check_server_tls_flags(args);
  const bool tls = args.has("tls");
  const bool json = args.has("json");
  http::ServerOptions options;
  options.tcp.threads = args.number("threads", 0, 256).value_or(0);
  options.tcp.reuse_port = args.has("reuse-port");
  options.header_timeout = seconds_option(args, "header-timeout", options.header_timeout);
  options.body_timeout = seconds_option(args, "body-timeout", options.body_timeout);
  options.keep_alive_timeout = seconds_option(args, "keep-alive", options.keep_alive_timeout);
  options.send_timeout = seconds_option(args, "send-timeout", options.send_timeout);
  options.limits.max_body =
      args.number("max-body", 0, 1ull << 40).value_or(options.limits.max_body);
  const auto port = static_cast<std::uint16_t>(args.number("port", 0, 65535).value_or(8080));
  const inet::Endpoint listen_at = bind_endpoint(args.value("bind"), port);
  if (tls) {
    const ServerTls identity = server_tls_context(args);
    print_fingerprint("http", identity, json);
    options.tcp.filter = tls::filter_factory(identity.context);
    options.tcp.handshake_timeout = handshake_timeout_flag(args);
    options.on_connection = [json](const TcpConnectionPtr& c, bool up) {
      if (!up) log_tls_failure("http", *c, json);
    };
  }

  http::Handler files = http::static_files({dir, args.has("listing")});
  http::Handler handler = files;
  if (args.has("echo")) {
    http::Router router;
    const auto echo = [](const http::Request& req, const http::Params&, http::Response& res) {
      res.status = 200;
      res.chunked = true;  // exercises the chunked response encoder too
      res.body = std::string(req.body);
      res.set("Content-Type", "application/octet-stream");
      res.set("X-Trailer-Count", std::to_string(req.trailers.size()));
    };
    router.add("POST", "/_echo", echo).add("PUT", "/_echo", echo);
    router.add("GET", "/*path",
               [files](const http::Request& req, const http::Params&, http::Response& res) {
                 files(req, res);
               });
    handler = router.handler();
  }

  EventLoop loop;
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&loop](int) { loop.quit(); });
  http::Server server(&loop, listen_at, handler, options);
  server.start();
  if (json) {
    print_json({{"event", "listening"},
                {"endpoint", server.listen_endpoint().to_string()},
                {"port", server.listen_endpoint().port()},
                {"tls", tls},
                {"root", dir}});
  } else {
    std::cout << "http: serving " << dir << " on " << (tls ? "https://" : "http://")
              << server.listen_endpoint().to_string() << "/\n";
  }
  std::cout.flush();
  loop.loop();
  server.stop();
  return 0;
}

}  // namespace

int http_main(Argv argv) {
  if (argv.empty()) {
    std::cerr << kHelp;
    return 2;
  }
  const std::string_view sub = argv[0];
  if (sub == "--help" || sub == "-h") {
    std::cout << kHelp;
    return 0;
  }
  if (sub == "serve") return serve(argv.subspan(1));
  throw UsageError("unknown subcommand '" + std::string(sub) +
                   "' (try: duplex http serve [DIR]; see duplex http --help)");
}

}  // namespace duplex::cli
