#include "netcat_udp.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "duplex/apps/netcat/hex_dump.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/signal_watcher.h"
#include "duplex/transport/udp_socket.h"

namespace duplex::cli::netcat {
namespace {

constexpr std::size_t kMaxDatagram = 65507;

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stdout gone: datagrams are dropped, as UDP may
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void dump(const Common& common, char dir, std::uint64_t& offset, std::string_view data) {
  if (!common.hex) return;
  std::cerr << apps::hex_dump(dir, offset, data);
  offset += data.size();
}

// stdin is read by a thread with plain blocking reads: for datagrams there is no
// back-pressure to keep (the kernel drops what does not fit), and a thread reads terminals,
// pipes and regular files alike. It sends through its own dup of the socket and reports EOF
// through a flag the loop polls, so it touches nothing that the loop may destroy; it is
// detached, since a read blocked on a terminal cannot be interrupted portably.
struct StdinPump {
  std::shared_ptr<std::atomic<bool>> eof = std::make_shared<std::atomic<bool>>(false);
  void start(std::function<void(std::string_view)> send) {
    std::thread([eof = eof, send = std::move(send)] {
      std::unique_ptr<char[]> buf(new char[kMaxDatagram]);
      for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, buf.get(), kMaxDatagram);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        send({buf.get(), static_cast<std::size_t>(n)});
      }
      eof->store(true);
    }).detach();
  }
};

// Runs the loop until stdin EOF plus quit-after (or a signal, through the caller's watcher).
void run_until_done(EventLoop& loop, const StdinPump& pump, Clock::duration quit_after) {
  bool quitting = false;
  loop.run_every(std::chrono::milliseconds(20), [&] {
    if (quitting || !pump.eof->load()) return;
    quitting = true;
    loop.run_after(quit_after, [&loop] { loop.quit(); });
  });
  loop.loop();
}

}  // namespace

int udp_connect(EventLoop& loop, const inet::Endpoint& peer, const Common& common,
                const Events& events, const UdpExtras& extras) {
  UdpOptions uo;
  uo.max_datagram = kMaxDatagram;
  UdpSocket socket(&loop, local_for(extras.local.value_or(inet::Endpoint()), peer), uo);
  const bool group = peer.address().is_multicast();
  if (extras.broadcast) socket.set_broadcast(true);
  if (group) {
    if (!extras.interface.empty())
      socket.set_multicast_interface(interface_index(extras.interface));
    if (extras.ttl >= 0) socket.set_multicast_ttl(extras.ttl);
  }
  const bool connected = !extras.broadcast && !group;
  if (connected) socket.connect(peer);
  events.emit(
      "ready",
      {{"peer", peer.to_string()}, {"protocol", "udp"}, {"local", socket.local().to_string()}},
      "sending datagrams to " + peer.to_string() + " from " + socket.local().to_string());
  // An ICMP error (port unreachable: ECONNREFUSED) comes back on the next receive or send
  // of a connected socket; either ends the session, as with ncat.
  auto refused = std::make_shared<std::atomic<int>>(0);
  socket.on_error([&loop, refused](int err) {
    refused->store(err);
    loop.quit();
  });
  std::uint64_t in_offset = 0, out_offset = 0;
  std::mutex hex_mutex;
  socket.start_reading([&](std::span<const Datagram> batch) {
    for (const auto& d : batch) {
      {
        std::lock_guard lock(hex_mutex);
        dump(common, '<', in_offset, d.data);
      }
      write_all(STDOUT_FILENO, d.data);
    }
  });
  // Before the stdin thread starts, so that it inherits the blocked signals.
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&loop](int) { loop.quit(); });
  const int fd = ::dup(socket.fd());
  StdinPump pump;
  pump.start([&common, &hex_mutex, &out_offset, fd, peer, connected,
              refused](std::string_view data) {
    {
      std::lock_guard lock(hex_mutex);
      dump(common, '>', out_offset, data);
    }
    sockaddr_storage ss{};
    const socklen_t len = peer.to_sockaddr(ss);
    if (connected) {
      if (::send(fd, data.data(), data.size(), MSG_NOSIGNAL) < 0 && errno == ECONNREFUSED)
        refused->store(errno);
    } else {
      ::sendto(fd, data.data(), data.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&ss), len);
    }
  });
  loop.run_every(std::chrono::milliseconds(20), [&loop, refused] {
    if (refused->load() != 0) loop.quit();
  });
  run_until_done(
      loop, pump,
      common.quit_after >= Clock::duration::zero() ? common.quit_after : std::chrono::seconds(1));
  std::cout << std::flush;
  if (const int err = refused->load(); err != 0) {
    const std::string why = socket_error("udp", err, &peer);
    events.emit("failed", {{"reason", why}}, why);
    if (!events.enabled()) std::cerr << events.command() << ": " << why << '\n';
    std::_Exit(1);
  }
  std::_Exit(0);  // the stdin thread may sit in read(): end without waiting for it
}

int udp_listen(EventLoop& loop, const inet::Endpoint& local, const Common& common,
               const Events& events, const UdpExtras& extras) {
  UdpOptions uo;
  uo.max_datagram = kMaxDatagram;
  uo.reuse_addr = extras.broadcast || extras.multicast.has_value();
  UdpSocket socket(&loop, local, uo);
  if (extras.broadcast) socket.set_broadcast(true);
  if (extras.multicast) {
    const unsigned index = extras.interface.empty() ? 0 : interface_index(extras.interface);
    socket.join_group(*extras.multicast, index);
    if (extras.ttl >= 0) socket.set_multicast_ttl(extras.ttl);
  }
  events.emit("listening", {{"local", socket.local().to_string()}, {"protocol", "udp"}},
              "listening on udp " + socket.local().to_string());
  // The peers seen so far; the stdin thread sends to each, so it is guarded.
  auto peers = std::make_shared<std::vector<inet::Endpoint>>();
  auto mutex = std::make_shared<std::mutex>();
  std::uint64_t in_offset = 0;
  auto out_offset = std::make_shared<std::uint64_t>(0);
  socket.start_reading([&](std::span<const Datagram> batch) {
    for (const auto& d : batch) {
      if (!extras.access.admits(d.peer.address())) {
        events.emit("denied", {{"peer", d.peer.to_string()}},
                    "ignored " + d.peer.to_string() + " (--allow/--deny)");
        continue;
      }
      bool is_new = false;
      {
        std::lock_guard lock(*mutex);
        if (std::find(peers->begin(), peers->end(), d.peer) == peers->end()) {
          if (extras.max_peers && peers->size() >= extras.max_peers) {
            events.emit("refused", {{"peer", d.peer.to_string()}},
                        "ignored " + d.peer.to_string() + " (--max-conns)");
            continue;
          }
          peers->push_back(d.peer);
          is_new = true;
        }
        dump(common, '<', in_offset, d.data);
      }
      if (is_new)
        events.emit("peer", {{"peer", d.peer.to_string()}, {"protocol", "udp"}},
                    "new peer " + d.peer.to_string());
      write_all(STDOUT_FILENO, d.data);
    }
  });
  SignalWatcher signals(&loop, {SIGINT, SIGTERM}, [&loop](int) { loop.quit(); });
  const int fd = ::dup(socket.fd());
  StdinPump pump;
  pump.start([&common, peers, mutex, out_offset, fd](std::string_view data) {
    std::lock_guard lock(*mutex);
    dump(common, '>', *out_offset, data);
    for (const auto& p : *peers) {
      sockaddr_storage ss{};
      const socklen_t len = p.to_sockaddr(ss);
      ::sendto(fd, data.data(), data.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&ss), len);
    }
  });
  // A listener outlives its stdin (`duplex listen -u 9000 < /dev/null` is a sink): it
  // ends on a signal, or --quit-after seconds after stdin EOF when that is given.
  if (common.quit_after >= Clock::duration::zero()) {
    bool quitting = false;
    loop.run_every(std::chrono::milliseconds(20), [&] {
      if (quitting || !pump.eof->load()) return;
      quitting = true;
      loop.run_after(common.quit_after, [&loop] { loop.quit(); });
    });
  }
  loop.loop();
  std::cout << std::flush;
  std::_Exit(0);
}

}  // namespace duplex::cli::netcat
