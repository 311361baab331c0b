#include "duplex/proto/tls_filter.h"

#include <limits>
#include <string>
#include <string_view>

namespace duplex::tls {
namespace {

StreamFilter::Result result_of(Session::Status s) {
  switch (s) {
    case Session::Status::kOk:
      return StreamFilter::Result::kOk;
    case Session::Status::kClosed:
      return StreamFilter::Result::kClosed;
    case Session::Status::kFailed:
      break;
  }
  return StreamFilter::Result::kFailed;
}

}  // namespace

StreamFilter::Result Filter::input(const char* data, std::size_t len, Buffer& plain) {
  if (session_.feed(data, len) == Session::Status::kFailed) {
    // A browser or curl sent http:// to this port: tell it in its own words, as nginx does,
    // rather than with a TLS alert it cannot read.
    if (session_.plain_http() && wire().empty()) {
      constexpr std::string_view kBody = "This port speaks TLS: use https://\n";
      const std::string answer =
          "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: " +
          std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + std::string(kBody);
      wire().append(answer.data(), answer.size());
    }
    return Result::kFailed;
  }
  // Everything fed decrypts now: the connection bounds it by reading once per wake-up, so
  // no record waits in the session for a socket event that will not come.
  return result_of(session_.read(plain, std::numeric_limits<std::size_t>::max()));
}

StreamFilter::Result Filter::output(const char* data, std::size_t len) {
  return result_of(session_.write(data, len));
}

std::string Filter::describe() const {
  if (!session_.open()) return "TLS handshake not done";
  std::string line = session_.protocol() + " " + session_.cipher();
  if (const std::string alpn = session_.alpn(); !alpn.empty()) line += " ALPN " + alpn;
  if (session_.resumed()) line += " resumed";
  return line;
}

std::function<std::unique_ptr<StreamFilter>()> filter_factory(
    std::shared_ptr<const Context> context) {
  return [context = std::move(context)]() -> std::unique_ptr<StreamFilter> {
    return std::make_unique<Filter>(context);
  };
}

}  // namespace duplex::tls
