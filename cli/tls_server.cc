#include "tls_server.h"

#include <iostream>

#include "duplex/transport/tcp_connection.h"
#include "output.h"

namespace duplex::cli {

void check_server_tls_flags(const Args& args) {
  if (!args.has("tls")) {
    for (const char* f : {"cert", "key", "handshake-timeout"})
      if (args.has(f)) args.fail("--" + std::string(f) + " is for TLS; add --tls");
    return;
  }
  if (args.has("cert") != args.has("key"))
    args.fail("--cert and --key go together: the certificate and its private key");
}

Clock::duration handshake_timeout_flag(const Args& args) {
  const auto text = args.value("handshake-timeout");
  if (!text) return std::chrono::seconds(10);
  try {
    std::size_t used = 0;
    const double s = std::stod(*text, &used);
    if (used == text->size() && s > 0 && s <= 86400)
      return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  } catch (const std::exception&) {
  }
  args.fail("--handshake-timeout '" + *text + "' must be a number of seconds in (0, 86400]");
}

void print_fingerprint(std::string_view command, const ServerTls& tls, bool json) {
  if (json) {
    print_json({{"event", "tls_certificate"}, {"sha256", tls.fingerprint}, {"source", tls.origin}});
  } else {
    std::cerr << command << ": TLS certificate SHA-256 " << tls.fingerprint << " (" << tls.origin
              << ")\n";
  }
}

void log_tls_failure(std::string_view command, const TcpConnection& c, bool json) {
  const StreamFilter* f = c.filter();
  if (!f || f->established() || c.close_reason().empty()) return;
  if (json) {
    std::cerr << nlohmann::json{{"event", "tls_failed"},
                                {"peer", c.peer().to_string()},
                                {"reason", c.close_reason()}}
                     .dump()
              << '\n';
  } else {
    std::cerr << command << ": " << c.peer().to_string() << ": " << c.close_reason() << '\n';
  }
}

}  // namespace duplex::cli
