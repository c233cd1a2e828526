// AdminHandler without a socket: routing, authentication and its throttle,
// cursors, and the metrics labels of what it refuses.
#include "admin/admin_handler.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/util/scratch_dir.h"

namespace refgate {
namespace {

constexpr std::string_view kToken = "admin-handler-test-token";

struct NullSink : ClickSink {
  bool Append(const ClickRecord&, Completion*) override { return false; }
  bool Healthy() const override { return true; }
};

class AdminHandlerTest : public testing::Test {
 protected:
  ScratchDir dir_;  // declared first: removed only after what lives in it is closed
  void SetUp() override {
    ASSERT_TRUE(CodeStore::Open(dir_.path(), 100, &store_).ok());
    CodePolicy policy{"https://example.com/", {"example.com"}, 302, "http://127.0.0.1:8080"};
    auto stats = [](std::string_view referrer, int64_t, int64_t, boost::json::object* out) {
      (*out)["referrer_id"] = referrer;
      return Status::OK();
    };
    handler_ = std::make_unique<AdminHandler>(std::string(kToken), policy, store_.get(), &sink_,
                                              stats, /*max_auth_failures=*/3);
  }
  void TearDown() override {
    handler_.reset();
    store_.reset();
  }

  // One request through the handler, from `peer`.
  HttpResponse Call(Method method, std::string_view target, std::string_view body = "",
                    std::string_view token = kToken, std::string_view peer = "192.0.2.1") {
    std::string auth = "Bearer " + std::string(token);
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.authorization = auth;
    req.content_type = body.empty() ? "" : "application/json";
    req.body = body;
    EXPECT_TRUE(ParseIp(peer, &req.peer));
    HttpResponse res;
    EXPECT_TRUE(handler_->Handle(req, &res, nullptr));
    return res;
  }
  static std::string ErrorType(const HttpResponse& res) {
    return std::string(boost::json::parse(res.body).at("error").at("type").as_string());
  }
  void Create(std::string_view code, std::string_view referrer) {
    std::string body = R"({"code":")" + std::string(code) + R"(","referrer_id":")" +
                       std::string(referrer) + R"("})";
    ASSERT_EQ(Call(Method::kPost, "/api/v1/codes", body).status, 201);
  }

  std::unique_ptr<CodeStore> store_;
  NullSink sink_;
  std::unique_ptr<AdminHandler> handler_;
};

TEST_F(AdminHandlerTest, PathsParseExactlyAndAnythingElseIs404) {
  EXPECT_EQ(Call(Method::kGet, "/api/v1/referrers/cust_1/stats").status, 200);
  // The path once cut with an unsigned underflow: "stats" as a referrer.
  for (std::string_view path :
       {"/api/v1/referrers/stats", "/api/v1/referrers//stats", "/api/v1/referrers/a/stats/",
        "/api/v1/referrers/a/b/stats", "/api/v1/codes/abc/extra", "/api/v1/codesX", "/api/v1",
        "/api/v1/codes//", "/healthz/", "/api/v1/codes/a b"}) {
    HttpResponse res = Call(Method::kGet, path);
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_EQ(ErrorType(res), "not_found") << path;
  }
}

TEST_F(AdminHandlerTest, AKnownPathWithAnotherMethodIs405WithAllow) {
  HttpResponse res = Call(Method::kPut, "/api/v1/codes");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.extra_headers, "Allow: POST, GET, HEAD\r\n");
  EXPECT_EQ(Call(Method::kPost, "/api/v1/referrers/r/stats").status, 405);
  // HEAD is answered wherever GET is.
  EXPECT_EQ(Call(Method::kHead, "/api/v1/referrers/r/stats").status, 200);
}

TEST_F(AdminHandlerTest, UnderApiOnlyAnAuthenticatedCallerLearnsWhatExists) {
  EXPECT_EQ(Call(Method::kGet, "/api/v1/nothing", "", "wrong").status, 401);
  EXPECT_EQ(Call(Method::kPut, "/api/v1/codes", "", "wrong").status, 401);
  EXPECT_EQ(Call(Method::kGet, "/healthz", "", "").status, 200);  // no token needed
}

TEST_F(AdminHandlerTest, WrongTokensAreThrottledButTheRightOneAlwaysPasses) {
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Call(Method::kGet, "/api/v1/codes", "", "guess").status, 401);
  HttpResponse locked = Call(Method::kGet, "/api/v1/codes", "", "guess");
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(ErrorType(locked), "rate_limited");
  EXPECT_TRUE(locked.extra_headers.starts_with("Retry-After: ")) << locked.extra_headers;
  // The marketer behind the same address is not locked out...
  EXPECT_EQ(Call(Method::kGet, "/api/v1/codes").status, 200);
  // ...nor are wrong tokens let through again by a right one.
  EXPECT_EQ(Call(Method::kGet, "/api/v1/codes", "", "guess").status, 429);
  // Other addresses are counted apart.
  EXPECT_EQ(Call(Method::kGet, "/api/v1/codes", "", "guess", "198.51.100.4").status, 401);
}

TEST_F(AdminHandlerTest, ACursorRefgateNeverIssuedIs400) {
  Create("aaa1", "cust_1");
  Create("bbb2", "cust_1");
  Create("ccc3", "cust_2");
  HttpResponse page = Call(Method::kGet, "/api/v1/codes?referrer_id=cust_1&limit=1");
  ASSERT_EQ(page.status, 200);
  auto cursor = boost::json::parse(page.body).at("next_cursor").as_string();
  EXPECT_EQ(cursor, "aaa1");
  HttpResponse next =
      Call(Method::kGet, "/api/v1/codes?referrer_id=cust_1&limit=1&cursor=" + std::string(cursor));
  EXPECT_EQ(next.status, 200);
  EXPECT_NE(next.body.find("bbb2"), std::string::npos);
  for (std::string_view bad : {"zzz", "ccc3", "a%20b"}) {
    HttpResponse res =
        Call(Method::kGet, "/api/v1/codes?referrer_id=cust_1&cursor=" + std::string(bad));
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_EQ(boost::json::parse(res.body).at("error").at("field").as_string(), "cursor") << bad;
  }
  // A code of the referrer that was deleted since still continues its listing.
  ASSERT_EQ(Call(Method::kDelete, "/api/v1/codes/aaa1").status, 204);
  EXPECT_EQ(Call(Method::kGet, "/api/v1/codes?referrer_id=cust_1&cursor=aaa1").status, 200);
}

TEST_F(AdminHandlerTest, RefusalsAreLabelledWithTheRouteCalled) {
  HttpResponse unauthorized = Call(Method::kPost, "/api/v1/codes", "{}", "wrong");
  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_EQ(unauthorized.route, Route::kCodesCreate);
  HttpRequest req;
  req.method = Method::kPatch;
  req.target = "/api/v1/codes/abc";
  std::string auth = "Bearer " + std::string(kToken);
  req.authorization = auth;
  req.content_type = "text/plain";
  req.body = "x";
  HttpResponse wrong_type;
  handler_->Handle(req, &wrong_type, nullptr);
  EXPECT_EQ(wrong_type.status, 415);
  EXPECT_EQ(wrong_type.route, Route::kCodesPatch);
  // What the session refuses itself (size, Transfer-Encoding) is labelled by Classify.
  EXPECT_EQ(handler_->Classify(Method::kPost, "/api/v1/codes/batch?x=1").route, Route::kCodesBatch);
  EXPECT_EQ(handler_->Classify(Method::kPost, "/api/v1/codes/batch").body_limit, kMaxBatchBody);
  EXPECT_EQ(handler_->Classify(Method::kPost, "/api/v1/codes").body_limit, kMaxAdminBody);
  EXPECT_EQ(handler_->Classify(Method::kGet, "/api/v1/referrers/r/stats").route, Route::kStats);
  EXPECT_EQ(handler_->Classify(Method::kGet, "/api/v1/stats").route, Route::kProgramStats);
  EXPECT_EQ(handler_->Classify(Method::kGet, "/nowhere").route, Route::kAdminOther);
  HttpResponse refusal;
  refusal.status = 413;
  handler_->RenderRefusal(&refusal);
  EXPECT_EQ(ErrorType(refusal), "payload_too_large");
  EXPECT_EQ(refusal.content_type, "application/json");
}

}  // namespace
}  // namespace refgate
