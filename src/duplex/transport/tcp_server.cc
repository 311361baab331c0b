#include "duplex/transport/tcp_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>

#include "duplex/reactor/event_loop.h"
#include "duplex/reactor/loop_thread.h"
#include "duplex/transport/acceptor.h"
#include "duplex/transport/tcp_connection.h"

namespace duplex {

// What connections reach after the server may be gone: they hold it weakly.
struct TcpServer::Shared {
  std::mutex mutex;
  std::unordered_map<const TcpConnection*, TcpConnectionPtr> connections;  // guarded
  bool stopping = false;                                                   // guarded
  std::uint64_t next_id = 1;                                               // guarded
};

TcpServer::TcpServer(EventLoop* loop, const inet::Endpoint& listen, std::string name,
                     TcpServerOptions options)
    : loop_(loop),
      name_(std::move(name)),
      options_(std::move(options)),
      listen_(listen),
      pool_(std::make_unique<LoopThreadPool>(loop, options_.threads)),
      shared_(std::make_shared<Shared>()) {
  loop_->assert_in_loop_thread();
  const std::size_t listeners =
      options_.reuse_port ? std::max<std::size_t>(options_.threads, 1) : 1;
  for (std::size_t i = 0; i < listeners; ++i) {
    Socket s = Socket::tcp(listen_);
    s.set_reuse_addr(true);
    if (options_.reuse_port) s.set_reuse_port(true);
    if (!listen_.address().is_v4()) s.set_v6_only(options_.v6_only);
    if (!options_.device.empty()) s.bind_to_device(options_.device);
    // The first listener learns the real port (port 0); the others bind to that one.
    s.bind(listen_);
    s.listen(options_.backlog);
    if (i == 0) listen_ = s.local_endpoint();
    listeners_.push_back(std::move(s));
  }
}

TcpServer::~TcpServer() { stop(); }

void TcpServer::start() {
  loop_->assert_in_loop_thread();
  if (started_ || stopped_) return;
  started_ = true;
  pool_->start();
  if (!options_.reuse_port) {
    auto acceptor = std::make_shared<Acceptor>(
        loop_, std::move(listeners_[0]), [this](Socket s, const inet::Endpoint& peer) {
          new_connection(pool_->next_loop(), std::move(s), peer);
        });
    acceptor->start();
    acceptors_.push_back(std::move(acceptor));
    acceptor_loops_.push_back(loop_);
  } else {
    std::vector<EventLoop*> loops = pool_->loops();
    for (std::size_t i = 0; i < loops.size() && i < listeners_.size(); ++i) {
      EventLoop* io = loops[i];
      auto acceptor = std::make_shared<Acceptor>(io, std::move(listeners_[i]),
                                                 [this, io](Socket s, const inet::Endpoint& peer) {
                                                   new_connection(io, std::move(s), peer);
                                                 });
      io->run_in_loop([acceptor] { acceptor->start(); });
      acceptors_.push_back(std::move(acceptor));
      acceptor_loops_.push_back(io);
    }
  }
  listeners_.clear();
}

void TcpServer::new_connection(EventLoop* io_loop, Socket socket, const inet::Endpoint& peer) {
  if (options_.no_delay) {
    int on = 1;
    ::setsockopt(socket.fd(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  inet::Endpoint local = listen_;
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    if (auto e = inet::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len))
      local = *e;
  }
  std::uint64_t id;
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->stopping) return;
    id = shared_->next_id++;
  }
  auto conn = std::make_shared<TcpConnection>(io_loop, name_ + "#" + std::to_string(id),
                                              std::move(socket), local, peer);
  if (options_.filter) conn->set_filter(options_.filter(), options_.handshake_timeout);
  conn->set_connection_callback(connection_cb_);
  conn->set_message_callback(message_cb_);
  conn->set_write_complete_callback(write_complete_cb_);
  conn->set_close_callback([weak = std::weak_ptr<Shared>(shared_)](const TcpConnectionPtr& c) {
    if (auto shared = weak.lock()) {
      std::lock_guard lock(shared->mutex);
      shared->connections.erase(c.get());
    }
    c->loop()->queue_in_loop([c] { c->connect_destroyed(); });
  });
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->stopping) return;
    shared_->connections.emplace(conn.get(), conn);
  }
  io_loop->run_in_loop([conn] { conn->connect_established(); });
}

void TcpServer::stop() {
  loop_->assert_in_loop_thread();
  if (stopped_) return;
  stopped_ = true;
  // An acceptor's channel belongs to its loop: destroy it there.
  for (std::size_t i = 0; i < acceptors_.size(); ++i) {
    acceptor_loops_[i]->run_in_loop([a = std::move(acceptors_[i])]() mutable { a.reset(); });
  }
  acceptors_.clear();
  std::vector<TcpConnectionPtr> live;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
    for (auto& [key, conn] : shared_->connections) live.push_back(conn);
    shared_->connections.clear();
  }
  for (auto& conn : live) {
    conn->loop()->run_in_loop([conn] { conn->connect_destroyed(); });
  }
  live.clear();
  pool_->stop();  // joins the I/O threads after their queued work
  listeners_.clear();
}

std::size_t TcpServer::connection_count() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->connections.size();
}

}  // namespace duplex
