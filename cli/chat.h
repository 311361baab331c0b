// Internal to the CLI. What the two halves of `duplex chat` share: the chat session
// (cli/chat.cc) and the discovery of servers (cli/chat_discover.cc), which may hand the
// first server it finds to a session (--discover --connect).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "args.h"
#include "duplex/inet/endpoint.h"
#include "duplex/proto/tls_context.h"

namespace duplex::cli::chat {

struct SessionSettings {
  std::optional<std::string> name;    // sent as "/nick NAME" once connected
  std::optional<std::string> room;    // sent as "/join ROOM"
  std::optional<std::string> token;   // sent first as "/auth TOKEN" (serve beyond loopback)
  std::shared_ptr<tls::Context> tls;  // --tls: the client context (--pin, --ca, --insecure)
  std::string server_name;            // --tls: HOST, for SNI and the name check
  std::chrono::steady_clock::duration wait = std::chrono::seconds(10);  // per address
};

// Connects to the first of `peers` that answers and relays stdin lines to the server and
// its lines to stdout until either side ends. Returns the exit status.
int run_session(const std::vector<inet::Endpoint>& peers, const SessionSettings& settings);

// `duplex chat --discover ...`. Returns the exit status.
int discover(const Args& args, const SessionSettings& settings);

// `text` from the network made safe for a terminal: each control character (C0 but tab,
// DEL, and the C1 ones U+0080..U+009F written in UTF-8) becomes U+FFFD, so a server (or
// any host answering a discovery probe) cannot send escape sequences to the terminal.
std::string printable(std::string_view text);

// "2", "1.5", "1s", "500ms" -> a duration; a UsageError naming --`option` otherwise.
std::chrono::steady_clock::duration parse_duration(const Args& args, const std::string& option,
                                                   const std::string& text);

}  // namespace duplex::cli::chat
