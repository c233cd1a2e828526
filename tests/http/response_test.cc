#include <gtest/gtest.h>

#include "http/message.h"

namespace refgate {

TEST(Response, SerializesARedirect) {
  HttpResponse r;
  r.status = 302;
  r.location = "https://example.com/?a=1";
  r.set_cookie = "rg_vid=x";
  r.cache_control = "private, no-store";
  std::string out;
  SerializeResponse(r, false, true, &out);
  EXPECT_EQ(out.rfind("HTTP/1.1 302 Found\r\nDate: ", 0), 0u);
  EXPECT_NE(out.find("\r\nLocation: https://example.com/?a=1\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nSet-Cookie: rg_vid=x\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nContent-Length: 0\r\n\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(Response, HeadKeepsLengthButDropsBody) {
  HttpResponse r;
  r.status = 404;
  r.body = "Not Found\n";
  std::string get, head;
  SerializeResponse(r, false, false, &get);
  SerializeResponse(r, true, false, &head);
  EXPECT_TRUE(get.ends_with("\r\n\r\nNot Found\n"));
  EXPECT_TRUE(head.ends_with("Content-Length: 10\r\nConnection: close\r\n\r\n"));
}

// RFC 9110 §8.6: never on a 204; on a 304 only the 200's length, which a
// 304 does not know here, so none.
TEST(Response, NoContentLengthOn204Or304) {
  for (int status : {204, 304}) {
    HttpResponse r;
    r.status = status;
    r.extra_headers = "ETag: \"x\"\r\n";
    std::string out;
    SerializeResponse(r, false, true, &out);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos) << out;
    EXPECT_TRUE(out.ends_with("ETag: \"x\"\r\n\r\n")) << out;
  }
  std::string out;
  HttpResponse r;
  r.status = 304;
  SerializeResponse(r, false, true, &out);
  EXPECT_EQ(out.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u);
}

TEST(Response, ResetKeepsNothing) {
  HttpResponse r;
  r.status = 500;
  r.location = "x";
  r.body = "y";
  r.close = true;
  r.Reset();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.location.empty());
  EXPECT_TRUE(r.body.empty());
  EXPECT_FALSE(r.close);
}

}  // namespace refgate
