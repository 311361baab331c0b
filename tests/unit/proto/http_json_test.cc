#include "duplex/proto/http_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace duplex::http {
namespace {

Request json_request(std::string_view type, std::string_view body) {
  Request req;
  req.headers.push_back({"Content-Type", type});
  req.body = body;
  return req;
}

TEST(HttpJson, SendJsonSetsTheBodyAndContentType) {
  Response res;
  send_json(res, 201, nlohmann::json{{"id", 7}});
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(res.body, R"({"id":7})");
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0].second, "application/json");
}

TEST(HttpJson, ReadsAJsonBody) {
  nlohmann::json body;
  Response res;
  ASSERT_TRUE(
      read_json_body(json_request("application/json; charset=utf-8", R"({"a":[1,2]})"), body, res));
  EXPECT_EQ(body["a"][1], 2);
}

TEST(HttpJson, MalformedBodyIs400NamingTheByte) {
  nlohmann::json body;
  Response res;
  EXPECT_FALSE(read_json_body(json_request("application/json", "{\"a\":"), body, res));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(nlohmann::json::parse(res.body)["status"], 400);
}

TEST(HttpJson, OtherContentTypeIs415) {
  nlohmann::json body;
  Response res;
  EXPECT_FALSE(read_json_body(json_request("text/plain", "{}"), body, res));
  EXPECT_EQ(res.status, 415);
}

}  // namespace
}  // namespace duplex::http
