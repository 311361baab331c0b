#include "duplex/apps/netcat/exec_relay.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "duplex/apps/netcat/exec_child.h"
#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::apps {

void ExecRelays::Entry::close_child_ends() {
  for (int* fd : {&to_child[0], &from_child[1]})
    if (*fd >= 0) ::close(std::exchange(*fd, -1));
}

ExecRelays::Entry::~Entry() {
  relay.reset();  // restores the descriptors' flags first
  close_child_ends();
  for (int fd : {to_child[1], from_child[0]})
    if (fd >= 0) ::close(fd);
}

ExecRelays::~ExecRelays() = default;

void ExecRelays::start(Socket socket, const std::vector<std::string>& argv, RelayOptions options,
                       Started started, Ended ended) {
  auto entry = std::make_unique<Entry>();
  if (::pipe2(entry->to_child, O_CLOEXEC) != 0 || ::pipe2(entry->from_child, O_CLOEXEC) != 0)
    throw Error(std::string("cannot make the program's pipes: ") + std::strerror(errno));
  const std::uint64_t id = next_id_++;
  // The program's stdin closes at the peer's EOF; a terminal's habits do not apply here.
  options.close_output_on_peer_eof = true;
  options.end_on_peer_eof = false;
  const bool wait_for_tls = options.tls != nullptr;
  if (wait_for_tls) {
    auto established = std::move(options.on_tls_established);
    options.on_tls_established = [this, id, argv, started, established](const tls::Session& s) {
      if (established) established(s);
      spawn(id, argv, started);
    };
  }
  entry->relay = std::make_unique<StreamRelay>(loop_, entry->from_child[0], entry->to_child[1],
                                               std::move(socket), std::move(options));
  StreamRelay* relay = entry->relay.get();
  relays_.emplace(id, std::move(entry));
  if (!wait_for_tls) spawn(id, argv, started);
  relay->start([this, id, ended](const RelayResult& r) {
    // The relay is still on the stack: it goes after this round.
    loop_->queue_in_loop([this, id, ended, r] { finish(id, r, ended); });
  });
}

void ExecRelays::spawn(std::uint64_t id, const std::vector<std::string>& argv,
                       const Started& started) {
  const auto it = relays_.find(id);
  if (it == relays_.end()) return;
  Entry& e = *it->second;
  pid_t pid = -1;
  std::string error;
  try {
    pid = spawn_with_fds(e.to_child[0], e.from_child[1], argv);
  } catch (const std::exception& ex) {
    error = ex.what();
  }
  // Ours closed, the program's EOFs are the relay's: its stdout's end ends our input.
  e.close_child_ends();
  if (started) started(pid, error);
}

void ExecRelays::finish(std::uint64_t id, const RelayResult& result, const Ended& ended) {
  relays_.erase(id);  // closes the pipes: the program sees EOF on stdin
  if (ended) ended(result);
}

}  // namespace duplex::apps
