// Public. A small router: method + path pattern -> handler.
//
// Patterns are matched segment by segment on the percent-decoded path:
//   "/items"          exactly that path
//   "/items/:id"      one segment, captured as "id"
//   "/files/*rest"    the rest of the path (possibly empty), captured as "rest"
// The first route added that matches wins. A path that matches only under other methods
// gets 405 with Allow; no match at all gets 404. HEAD is served by GET routes.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/proto/http_server.h"

namespace duplex::http {

class Params {
 public:
  // The captured segment, "" when absent.
  std::string_view get(std::string_view name) const noexcept;
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

using RouteHandler = std::function<void(const Request&, const Params&, Response&)>;

class Router {
 public:
  Router& add(std::string method, std::string pattern, RouteHandler handler);
  // Routes a request; usable as the server's Handler.
  void operator()(const Request& request, Response& response) const;
  Handler handler() const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

// Percent-decodes a path or query component. False on a malformed escape or an encoded NUL.
bool percent_decode(std::string_view in, std::string& out);

}  // namespace duplex::http
