// Public. A program per connection behind a StreamRelay, for when the socket's bytes are
// not the program's own (TLS: `duplex listen --tls --exec`): the program's stdin and stdout
// are pipes, and the relay carries them to the socket through the relay's TLS session.
//
// With TLS the program starts only once the handshake is done, so a client that fails it
// (no certificate for --client-ca, plain text) never runs it. The relay's EOF rules hold:
// the peer's close_notify closes the program's stdin; the program's stdout reaching EOF
// sends close_notify, then FIN. Loop thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/netcat/stream_relay.h"

namespace duplex::apps {

class ExecRelays {
 public:
  // Told when the program started (pid > 0) or could not (pid -1 and why).
  using Started = std::function<void(pid_t pid, const std::string& error)>;
  // Told once a relay has ended and its pipes are closed.
  using Ended = std::function<void(const RelayResult&)>;

  explicit ExecRelays(EventLoop* loop) : loop_(loop) {}
  ~ExecRelays();
  ExecRelays(const ExecRelays&) = delete;
  ExecRelays& operator=(const ExecRelays&) = delete;

  // Relays `socket` to a new run of `argv` (at once, or with options.tls once its
  // handshake is done). Throws duplex::Error when the pipes cannot be made.
  void start(Socket socket, const std::vector<std::string>& argv, RelayOptions options,
             Started started, Ended ended);
  std::size_t size() const noexcept { return relays_.size(); }

 private:
  // The relay's ends of the pipes stay open until it is destroyed; the program's ends until
  // it has them (or the relay ends first).
  struct Entry {
    int to_child[2] = {-1, -1};    // the relay writes [1], the program reads [0]
    int from_child[2] = {-1, -1};  // the program writes [1], the relay reads [0]
    std::unique_ptr<StreamRelay> relay;
    void close_child_ends();
    ~Entry();
  };
  void spawn(std::uint64_t id, const std::vector<std::string>& argv, const Started& started);
  void finish(std::uint64_t id, const RelayResult& result, const Ended& ended);

  EventLoop* loop_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::unique_ptr<Entry>> relays_;
};

}  // namespace duplex::apps
