// RedirectHandler without a socket: routing of the public listener, what
// reaches the store and the click sink, and when the visitor waits.
#include "redirect/redirect_handler.h"

#include <gtest/gtest.h>

#include "tests/util/scratch_dir.h"
#include "util/random.h"

namespace refgate {
namespace {

constexpr std::string_view kBrowser =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0";

// Keeps what it was handed; `wait` says whether the visitor waits for it.
struct RecordingSink : ClickSink {
  bool wait = false;
  std::vector<ClickRecord> clicks;
  std::vector<Completion*> dones;
  bool Append(const ClickRecord& rec, Completion* done) override {
    clicks.push_back(rec);
    dones.push_back(done);
    return wait;
  }
  bool Healthy() const override { return true; }
};

struct NoopCompletion : Completion {
  void Complete(Outcome) override {}
};

class RedirectHandlerTest : public testing::Test {
 protected:
  ScratchDir dir_;  // declared first: removed only after what lives in it is closed
  void SetUp() override {
    ASSERT_TRUE(CodeStore::Open(dir_.path(), 100, &store_).ok());
    CodeRecord r;
    r.code = "Ab3xY9k";
    r.referrer_id = "cust_1";
    r.target_url = "https://example.com/welcome";
    std::vector<Status> results;
    ASSERT_TRUE(store_->Insert(std::span(&r, 1), &results).ok());
    ASSERT_TRUE(results[0].ok());
    handler_ = std::make_unique<RedirectHandler>(RedirectOptions{}, store_.get(), &sink_);
  }
  void TearDown() override {
    handler_.reset();
    store_.reset();
  }

  // One request through the handler; `complete` is what Handle returned.
  HttpResponse Call(std::string_view target, Method method = Method::kGet,
                    bool* complete = nullptr) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.user_agent = kBrowser;
    EXPECT_TRUE(ParseIp("203.0.113.7", &req.peer));
    HttpResponse res;
    bool c = handler_->Handle(req, &res, &done_);
    if (complete) *complete = c;
    return res;
  }
  static uint64_t Lookups() {
    return GlobalMetrics().cache_hits.Value() + GlobalMetrics().cache_misses.Value();
  }

  std::unique_ptr<CodeStore> store_;
  RecordingSink sink_;
  NoopCompletion done_;
  std::unique_ptr<RedirectHandler> handler_;
};

TEST_F(RedirectHandlerTest, MethodsOtherThanGetAndHeadAre405WithAllow) {
  for (Method m : {Method::kPost, Method::kPut, Method::kPatch, Method::kDelete, Method::kOther}) {
    for (std::string_view target : {"/Ab3xY9k", "/healthz"}) {
      bool complete = false;
      HttpResponse res = Call(target, m, &complete);
      EXPECT_TRUE(complete);
      EXPECT_EQ(res.status, 405) << target;
      EXPECT_NE(res.extra_headers.find("Allow: GET, HEAD\r\n"), std::string::npos);
      EXPECT_EQ(res.route, Route::kPublicOther);
    }
  }
  EXPECT_TRUE(sink_.clicks.empty());
}

TEST_F(RedirectHandlerTest, HealthzIsOkForGetAndHeadAndRecordsNothing) {
  for (Method m : {Method::kGet, Method::kHead}) {
    HttpResponse res = Call("/healthz?probe=1", m);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.route, Route::kPublicHealth);
    EXPECT_EQ(res.body, "ok\n");
  }
  EXPECT_TRUE(sink_.clicks.empty());
}

TEST_F(RedirectHandlerTest, MalformedCodesAre404WithoutAStoreLookup) {
  const std::vector<std::string> targets = {
      "",          "/",      "/ab",       "Ab3xY9k",   "//Ab3xY9k",
      "/Ab3xY9k/", "/a%20b", "/ab.c?x=1", "/healthz/", "/" + std::string(65, 'a')};
  for (const std::string& target : targets) {
    uint64_t before = Lookups();
    HttpResponse res = Call(target);
    EXPECT_EQ(res.status, 404) << target;
    EXPECT_EQ(res.route, Route::kPublicOther) << target;
    EXPECT_EQ(Lookups(), before) << target;
  }
  EXPECT_TRUE(sink_.clicks.empty());
}

TEST_F(RedirectHandlerTest, UnknownCodeIs404AndHandsAnOrphanToTheSink) {
  HttpResponse res = Call("/" + std::string(64, 'z'));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.route, Route::kNotFound);
  ASSERT_EQ(sink_.clicks.size(), 1u);
  EXPECT_EQ(sink_.clicks[0].type, ClickType::kOrphan);
  EXPECT_EQ(sink_.clicks[0].code, std::string(64, 'z'));
  EXPECT_EQ(sink_.clicks[0].referrer_id, "");
}

TEST_F(RedirectHandlerTest, LiveCodeRedirectsAndHandsTheClickToTheSink) {
  uint64_t recorded = GlobalMetrics().clicks_recorded.Value();
  bool complete = false;
  HttpResponse res = Call("/Ab3xY9k?utm_medium=email", Method::kGet, &complete);
  EXPECT_TRUE(complete) << "the sink did not make the visitor wait";
  EXPECT_EQ(res.status, 302);
  EXPECT_EQ(res.route, Route::kRedirect);
  ASSERT_EQ(sink_.clicks.size(), 1u);
  const ClickRecord c = sink_.clicks[0];  // a copy: the next Append may move the vector
  EXPECT_EQ(c.type, ClickType::kClick);
  EXPECT_EQ(c.code, "Ab3xY9k");
  EXPECT_EQ(c.referrer_id, "cust_1");
  EXPECT_EQ(c.utm[1], "email");
  EXPECT_EQ(c.status, 302);
  EXPECT_EQ(c.visitor_id.size(), kRandomIdChars);
  EXPECT_EQ(res.location.rfind("https://example.com/welcome?", 0), 0u) << res.location;
  EXPECT_NE(res.location.find("rg_click=" + c.click_id), std::string::npos) << res.location;
  EXPECT_NE(res.set_cookie.find("rg_vid=" + c.visitor_id), std::string::npos) << res.set_cookie;
  EXPECT_EQ(GlobalMetrics().clicks_recorded.Value(), recorded + 1);
  Call("/Ab3xY9k");
  ASSERT_EQ(sink_.clicks.size(), 2u);
  EXPECT_NE(sink_.clicks[1].click_id, c.click_id);
}

TEST_F(RedirectHandlerTest, NoTrackRedirectsWithoutHandingAClickToTheSink) {
  HttpResponse res = Call("/Ab3xY9k?rg_notrack=1");
  EXPECT_EQ(res.status, 302);
  EXPECT_EQ(res.location.find("rg_click"), std::string::npos) << res.location;
  EXPECT_TRUE(sink_.clicks.empty());
}

TEST_F(RedirectHandlerTest, SinkThatMakesTheVisitorWaitMakesHandleReturnFalse) {
  sink_.wait = true;
  bool complete = true;
  HttpResponse res = Call("/Ab3xY9k", Method::kGet, &complete);
  EXPECT_FALSE(complete);
  EXPECT_EQ(res.status, 302);
  ASSERT_EQ(sink_.dones.size(), 1u);
  EXPECT_EQ(sink_.dones[0], &done_) << "the sink completes the session's own Completion";
}

TEST_F(RedirectHandlerTest, RefusalsTakeNoBodyAndSayTheirReason) {
  RequestClass rc = handler_->Classify(Method::kPost, "/Ab3xY9k");
  EXPECT_EQ(rc.body_limit, 0u);
  EXPECT_EQ(rc.route, Route::kPublicOther);
  HttpResponse res;
  res.status = 414;
  handler_->RenderRefusal(&res);
  EXPECT_EQ(res.body, std::string(ReasonPhrase(414)) + "\n");
  EXPECT_FALSE(ReasonPhrase(414).empty());
}

}  // namespace
}  // namespace refgate
