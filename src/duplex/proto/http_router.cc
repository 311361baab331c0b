#include "duplex/proto/http_router.h"

#include <memory>

namespace duplex::http {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    if (path.front() == '/') path.remove_prefix(1);
    const auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
    if (path == "/") {
      out.emplace_back();  // a trailing slash is an empty last segment
      break;
    }
  }
  return out;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return false;
    out.push_back(c);
    i += 2;
  }
  return true;
}

std::string_view Params::get(std::string_view name) const noexcept {
  for (const auto& [k, v] : items_) {
    if (k == name) return v;
  }
  return {};
}

Router& Router::add(std::string method, std::string pattern, RouteHandler handler) {
  routes_.push_back({std::move(method), split_path(pattern), std::move(handler)});
  return *this;
}

void Router::operator()(const Request& request, Response& response) const {
  std::string path;
  if (!percent_decode(request.path, path)) {
    response.text(400, "malformed percent-encoding in the path\n");
    return;
  }
  const auto segments = split_path(path);
  std::string allow;
  for (const auto& route : routes_) {
    Params params;
    bool match = true;
    std::size_t i = 0;
    for (; i < route.segments.size(); ++i) {
      const auto& p = route.segments[i];
      if (!p.empty() && p.front() == '*') {
        std::string rest;
        for (std::size_t j = i; j < segments.size(); ++j) rest += (j > i ? "/" : "") + segments[j];
        params.add(p.substr(1), rest);
        i = segments.size();
        break;
      }
      if (i >= segments.size()) {
        match = false;
        break;
      }
      if (!p.empty() && p.front() == ':') {
        params.add(p.substr(1), segments[i]);
      } else if (p != segments[i]) {
        match = false;
        break;
      }
    }
    if (!match || i != segments.size()) continue;
    const bool method_ok =
        route.method == request.method || (request.method == "HEAD" && route.method == "GET");
    if (!method_ok) {
      if (allow.find(route.method) == std::string::npos)
        allow += (allow.empty() ? "" : ", ") + route.method;
      continue;
    }
    route.handler(request, params, response);
    return;
  }
  if (!allow.empty()) {
    response.text(405, "method not allowed\n");
    response.set("Allow", allow);
    return;
  }
  response.text(404, "not found\n");
}

Handler Router::handler() const {
  auto self = std::make_shared<const Router>(*this);
  return [self](const Request& req, Response& res) { (*self)(req, res); };
}

}  // namespace duplex::http
