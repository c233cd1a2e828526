// ViewRequest: the fields handlers read, from one pass over a parsed request.
#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/session.h"

namespace refgate {
namespace {

namespace http = boost::beast::http;

struct Parsed {
  http::request_parser<http::string_body> parser;
  explicit Parsed(std::string_view raw) {
    boost::beast::error_code ec;
    parser.eager(true);
    parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(parser.is_done());
  }
};

TEST(ViewRequest, EveryFieldHandlersRead) {
  Parsed p(
      "POST /api/v1/codes?x=1 HTTP/1.1\r\n"
      "Host: t\r\n"
      "user-agent: UA/1\r\n"
      "Cookie: a=1; rg_vid=abc\r\n"
      "Referer: https://r.example/\r\n"
      "sec-purpose: prefetch;prerender\r\n"
      "PURPOSE: prefetch\r\n"
      "X-Forwarded-For: 1.2.3.4\r\n"
      "Authorization: Bearer tok\r\n"
      "Content-Type: application/json\r\n"
      "If-None-Match: \"abc\", W/\"def\"\r\n"
      "Content-Length: 2\r\n"
      "\r\n"
      "{}");
  HttpRequest req;
  ViewRequest(p.parser.get(), &req);
  EXPECT_EQ(req.method, Method::kPost);
  EXPECT_EQ(req.method_name, "POST");
  EXPECT_EQ(req.target, "/api/v1/codes?x=1");
  EXPECT_EQ(req.user_agent, "UA/1");
  EXPECT_EQ(req.cookie, "a=1; rg_vid=abc");
  EXPECT_EQ(req.referer, "https://r.example/");
  EXPECT_EQ(req.sec_purpose, "prefetch;prerender");
  EXPECT_EQ(req.purpose, "prefetch");
  EXPECT_EQ(req.forwarded_for, "1.2.3.4");
  EXPECT_EQ(req.authorization, "Bearer tok");
  EXPECT_EQ(req.content_type, "application/json");
  EXPECT_EQ(req.if_none_match, "\"abc\", W/\"def\"");
  EXPECT_EQ(req.body, "{}");
}

// Repeated fields: the first counts, but X-Forwarded-For lines are one list
// (RFC 9110 §5.3), the proxy's line after the client's.
TEST(ViewRequest, FirstOfARepeatedFieldAllForwardedForLinesAndNothingLeftFromTheLastRequest) {
  HttpRequest req;
  {
    Parsed p(
        "GET /a HTTP/1.1\r\nCookie: first\r\nCookie: second\r\nUser-Agent: one\r\n"
        "User-Agent: two\r\nX-Forwarded-For: 9.9.9.9\r\nX-Forwarded-For: 8.8.8.8\r\n\r\n");
    ViewRequest(p.parser.get(), &req);
    EXPECT_EQ(req.cookie, "first");
    EXPECT_EQ(req.user_agent, "one");
    EXPECT_EQ(req.forwarded_for, "9.9.9.9, 8.8.8.8");
  }
  Parsed p("HEAD /b HTTP/1.1\r\nHost: t\r\n\r\n");
  ViewRequest(p.parser.get(), &req);
  EXPECT_EQ(req.method, Method::kHead);
  EXPECT_EQ(req.cookie, "");
  EXPECT_EQ(req.user_agent, "");
  EXPECT_EQ(req.forwarded_for, "");
  EXPECT_EQ(req.sec_purpose, "");
}

}  // namespace
}  // namespace refgate
