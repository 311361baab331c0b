#include "duplex/apps/transfer/session.h"

#include "duplex/base/error.h"
#include "duplex/reactor/event_loop.h"

namespace duplex::transfer {

void Session::on_closed(const TcpConnectionPtr& c) {
  if (finished_) return;
  // A TLS handshake that failed says all there is to say.
  if (c->filter() != nullptr && !c->filter()->established() && !c->close_reason().empty())
    return fail(c, c->close_reason(), false);
  std::string why = closed_early();
  if (!c->close_reason().empty()) why += " (" + c->close_reason() + ")";
  fail(c, why, false);
}

void Session::fail(const TcpConnectionPtr& c, const std::string& why, bool tell) {
  if (finished_) return;
  if (tell && c->connected()) {
    c->send(encode_frame(FrameType::kError, why));
    c->shutdown_write();
    std::weak_ptr<TcpConnection> weak = c;
    c->loop()->run_after(kLinger, [weak] {
      if (auto conn = weak.lock()) conn->force_close();
    });
  } else if (c->connected()) {
    c->force_close();
  }
  outcome_.ok = false;
  outcome_.error = why;
  end();
}

void Session::succeed(const TcpConnectionPtr& c) {
  if (finished_) return;
  c->shutdown_write();
  outcome_.ok = true;
  end();
}

std::optional<Frame> Session::next_frame(const TcpConnectionPtr& c, Buffer& in) {
  try {
    return take_frame(in);
  } catch (const ParseError& e) {
    fail(c, e.what());
    return std::nullopt;
  }
}

void Session::report(const FileReport& f) {
  ++outcome_.files;
  if (f.skipped) ++outcome_.skipped;
  if (events_.file) events_.file(f);
}

void Session::end() {
  finished_ = true;
  outcome_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (events_.end) events_.end(outcome_);
}

}  // namespace duplex::transfer
