// The admin API's JSON helpers: response fields, the error shape, the
// Content-Type check and the object body parser.
#include "admin/json_response.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace refgate {
namespace {
namespace json = boost::json;

TEST(JsonResponseTest, SetsStatusTypeAndBody) {
  HttpResponse res;
  res.location = "kept";
  JsonResponse(&res, 201, R"({"a":1})");
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, R"({"a":1})");
  EXPECT_EQ(res.location, "kept");  // nothing else is touched
}

TEST(JsonResponseTest, AnErrorCarriesTypeMessageAndField) {
  HttpResponse res;
  ErrorResponse(&res, ApiError{422, "validation_error", "too long", "code"});
  EXPECT_EQ(res.status, 422);
  EXPECT_EQ(res.content_type, "application/json");
  json::value v = json::parse(res.body);
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.as_object().size(), 1u);
  const auto& e = v.at("error");
  EXPECT_EQ(e.at("type").as_string(), "validation_error");
  EXPECT_EQ(e.at("message").as_string(), "too long");
  EXPECT_EQ(e.at("field").as_string(), "code");
}

TEST(JsonResponseTest, AnErrorWithoutAFieldSaysNull) {
  HttpResponse res;
  ErrorResponse(&res, 404, "not_found", "no such code");
  EXPECT_EQ(res.status, 404);
  json::value v = json::parse(res.body);
  EXPECT_EQ(v.at("error").at("type").as_string(), "not_found");
  EXPECT_EQ(v.at("error").at("message").as_string(), "no such code");
  EXPECT_TRUE(v.at("error").at("field").is_null());
}

TEST(JsonResponseTest, MessagesAreEscapedNotSpliced) {
  HttpResponse res;
  ErrorResponse(&res, 400, "invalid_json", "a \"quoted\" \\ message\n");
  json::value v = json::parse(res.body);
  EXPECT_EQ(v.at("error").at("message").as_string(), "a \"quoted\" \\ message\n");
}

TEST(JsonResponseTest, AStoreFailureIs500WithoutItsDetails) {
  HttpResponse res;
  InternalErrorResponse(&res, Status::IOError("/secret/path/000123.sst: disk on fire"));
  EXPECT_EQ(res.status, 500);
  json::value v = json::parse(res.body);
  EXPECT_EQ(v.at("error").at("type").as_string(), "internal");
  EXPECT_EQ(res.body.find("secret"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("fire"), std::string::npos) << res.body;
}

TEST(JsonResponseTest, IsJsonIgnoresCaseAndParameters) {
  EXPECT_TRUE(IsJson("application/json"));
  EXPECT_TRUE(IsJson("Application/JSON"));
  EXPECT_TRUE(IsJson("application/json; charset=utf-8"));
  EXPECT_TRUE(IsJson("application/json;charset=utf-8"));
  EXPECT_TRUE(IsJson("application/json ; charset=utf-8"));
  EXPECT_TRUE(IsJson("application/json;"));
}

TEST(JsonResponseTest, IsJsonRefusesOtherTypes) {
  EXPECT_FALSE(IsJson(""));
  EXPECT_FALSE(IsJson(";"));
  EXPECT_FALSE(IsJson("application/jso"));
  EXPECT_FALSE(IsJson("application/jsonx"));
  EXPECT_FALSE(IsJson("application/json-patch+json"));
  EXPECT_FALSE(IsJson("application/x-www-form-urlencoded"));
  EXPECT_FALSE(IsJson("text/json"));
  EXPECT_FALSE(IsJson("text/plain; application/json"));
  EXPECT_FALSE(IsJson("applicationXjson"));
}

TEST(JsonResponseTest, ParseObjectAcceptsAnObject) {
  json::object o;
  auto err = ParseObject(R"({"code":"abc","n":[1,2]})", &o);
  ASSERT_FALSE(err.has_value()) << err->message;
  EXPECT_EQ(o.at("code").as_string(), "abc");
  EXPECT_EQ(o.at("n").as_array().size(), 2u);
  err = ParseObject(" {} \n", &o);
  ASSERT_FALSE(err.has_value());
  EXPECT_TRUE(o.empty());
}

TEST(JsonResponseTest, ParseObjectRefusesMalformedJson) {
  for (std::string_view body :
       {"", "{", R"({"a":})", R"({"a":1}})", R"({"a":1} x)", "{'a':1}", "\xff", R"({"a":1,})"}) {
    json::object o;
    o["untouched"] = true;
    auto err = ParseObject(body, &o);
    ASSERT_TRUE(err.has_value()) << body;
    EXPECT_EQ(err->status, 400) << body;
    EXPECT_EQ(err->type, "invalid_json") << body;
    EXPECT_TRUE(err->field.empty()) << body;
    EXPECT_TRUE(o.contains("untouched")) << body;
  }
}

TEST(JsonResponseTest, ParseObjectRefusesOtherJsonValues) {
  for (std::string_view body : {"[]", R"([{"a":1}])", "1", R"("text")", "null", "true"}) {
    json::object o;
    auto err = ParseObject(body, &o);
    ASSERT_TRUE(err.has_value()) << body;
    EXPECT_EQ(err->status, 400) << body;
    EXPECT_EQ(err->type, "invalid_json") << body;
    EXPECT_NE(err->message.find("object"), std::string::npos) << err->message;
  }
}

}  // namespace
}  // namespace refgate
