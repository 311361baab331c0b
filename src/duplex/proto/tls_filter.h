// Public. The TLS stage as a TcpConnection filter: a tls::Session behind the StreamFilter
// interface of transport/, so HTTP, WebSocket and the chat run over TLS unchanged.
//
//   auto context = tls::Context::server(options);           // once, shared
//   TcpServerOptions tcp;
//   tcp.filter = tls::filter_factory(context);              // every accepted connection
//   tcp.handshake_timeout = std::chrono::seconds(10);       // slowloris on TLS
//
// or, for one connection (a client: pass the server's name for SNI and the check), before
// connect_established:  conn->set_filter(std::make_unique<tls::Filter>(context, "host"));
// A plain HTTP request where a ClientHello was due is answered "400 use https://" in clear
// text before the connection closes (the filter's error says so too).
// A user that wants the protocol or the peer's certificate reads it from session():
//   if (auto* f = dynamic_cast<const tls::Filter*>(conn->filter())) f->session().cipher();
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "duplex/proto/tls_session.h"
#include "duplex/transport/stream_filter.h"

namespace duplex::tls {

class Filter final : public StreamFilter {
 public:
  explicit Filter(std::shared_ptr<const Context> context, std::string_view server_name = {})
      : session_(std::move(context), server_name) {}

  void start() override { session_.start(); }
  Result input(const char* data, std::size_t len, Buffer& plain) override;
  Result output(const char* data, std::size_t len) override;
  void close() override { session_.close(); }
  Buffer& wire() override { return session_.output(); }
  bool established() const override { return session_.open(); }
  const std::string& error() const override { return session_.error(); }
  std::string describe() const override;

  const Session& session() const noexcept { return session_; }

 private:
  Session session_;
};

// Makes a server-side Filter of `context` for each accepted connection.
std::function<std::unique_ptr<StreamFilter>()> filter_factory(
    std::shared_ptr<const Context> context);

}  // namespace duplex::tls
