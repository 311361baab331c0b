#include "duplex/proto/http_json.h"

#include <nlohmann/json.hpp>
#include <string>

namespace duplex::http {

void send_json(Response& res, int status, const nlohmann::json& value) {
  // Invalid UTF-8 in a string is replaced rather than thrown at the client's expense.
  res.json(status, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void send_json_error(Response& res, int status, std::string_view message) {
  send_json(res, status, nlohmann::json{{"error", message}, {"status", status}});
}

bool read_json_body(const Request& req, nlohmann::json& out, Response& res) {
  const auto type = req.header("content-type");
  if (!type || !(iequals(type->substr(0, type->find(';')), "application/json"))) {
    send_json_error(res, 415, "expected a body with Content-Type: application/json");
    return false;
  }
  try {
    out = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::parse_error& e) {
    send_json_error(res, 400, "the body is not valid JSON: byte " + std::to_string(e.byte));
    return false;
  }
  return true;
}

}  // namespace duplex::http
