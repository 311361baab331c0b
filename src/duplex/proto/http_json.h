// Public. JSON helpers for HTTP handlers, with nlohmann-json. Only its forward declarations
// are included here; include <nlohmann/json.hpp> where you build or read the values.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "duplex/proto/http_parser.h"
#include "duplex/proto/http_response.h"

namespace duplex::http {

// A JSON body (application/json) with this status.
void send_json(Response& res, int status, const nlohmann::json& value);
// {"error": message, "status": status} with this status.
void send_json_error(Response& res, int status, std::string_view message);
// Parses the request body as JSON into `out`. On failure fills `res` with the error (415
// when the Content-Type is not JSON, 400 when the body does not parse, naming where) and
// returns false, so a handler can write: if (!read_json_body(req, body, res)) return;
bool read_json_body(const Request& req, nlohmann::json& out, Response& res);

}  // namespace duplex::http
