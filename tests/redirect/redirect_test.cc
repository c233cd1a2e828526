#include "redirect/redirect.h"

#include <gtest/gtest.h>

namespace refgate {
namespace {

constexpr int64_t kNow = 1795341600'000000;  // 2026-11-22T10:00:00Z
constexpr std::string_view kBrowser =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0";

struct Fixture : testing::Test {
  RedirectOptions opt;
  HttpRequest req;
  CodeRecord rec;
  HttpResponse res;

  Fixture() {
    req.user_agent = kBrowser;
    EXPECT_TRUE(ParseIp("203.0.113.77", &req.peer));
    rec.code = "Ab3xY9k";
    rec.referrer_id = "cust_1";
    rec.target_url = "https://example.com/welcome";
    rec.utm[0] = "referral";
  }

  Decision Run(const CodeRecord* r, std::string_view query = "", bool head = false) {
    res.Reset();
    Visit v{head, "Ab3xY9k", query, &req, kNow, "NEWVISITOR0000000000000", "CLICKID"};
    return DecideRedirect(opt, v, r, &res);
  }
};

TEST_F(Fixture, ActiveCodeRedirectsAndIssuesACookieToANewVisitor) {
  Decision d = Run(&rec, "utm_medium=email");
  EXPECT_EQ(res.status, 302);
  EXPECT_EQ(res.location,
            "https://example.com/welcome?utm_source=referral&utm_medium=email&ref=Ab3xY9k"
            "&rg_click=CLICKID");
  EXPECT_EQ(res.set_cookie.rfind("rg_vid=NEWVISITOR0000000000000; Max-Age=7776000", 0), 0u);
  EXPECT_EQ(res.cache_control, "private, no-store");
  ASSERT_TRUE(d.record);
  const ClickRecord& c = d.click;
  EXPECT_EQ(c.type, ClickType::kClick);
  EXPECT_EQ(c.referrer_id, "cust_1");
  EXPECT_EQ(c.visitor_id, "NEWVISITOR0000000000000");
  EXPECT_TRUE(c.new_visitor);
  EXPECT_FALSE(c.bot);
  EXPECT_EQ(c.utm[0], "referral");
  EXPECT_EQ(c.utm[1], "email");
  EXPECT_EQ(c.ip, "203.0.113.0");
  EXPECT_EQ(c.status, 302);
  EXPECT_EQ(c.click_id, "CLICKID");
  EXPECT_EQ(c.ts_us, kNow);
  EXPECT_EQ(c.method, "GET");
}

TEST_F(Fixture, ReturningVisitorKeepsTheirId) {
  req.cookie = "other=1; rg_vid=RETURNING00000000000000";
  Decision d = Run(&rec);
  EXPECT_EQ(d.click.visitor_id, "RETURNING00000000000000");
  EXPECT_FALSE(d.click.new_visitor);
  EXPECT_EQ(res.set_cookie.rfind("rg_vid=RETURNING00000000000000;", 0), 0u);
}

TEST_F(Fixture, MalformedCookieGetsANewId) {
  req.cookie = "rg_vid=bad id";
  Decision d = Run(&rec);
  EXPECT_TRUE(d.click.new_visitor);
  EXPECT_EQ(d.click.visitor_id, "NEWVISITOR0000000000000");
}

TEST_F(Fixture, PermanentRedirectsMayBeCachedBriefly) {
  for (int status : {301, 308}) {
    rec.redirect_status = status;
    Run(&rec);
    EXPECT_EQ(res.status, status);
    EXPECT_EQ(res.cache_control, "private, max-age=90");
  }
  rec.redirect_status = 307;
  Run(&rec);
  EXPECT_EQ(res.cache_control, "private, no-store");
}

TEST_F(Fixture, BotsAreRedirectedWithoutCookieAndMarked) {
  req.user_agent = "Slackbot-LinkExpanding 1.0";
  Decision d = Run(&rec);
  EXPECT_EQ(res.status, 302);
  EXPECT_TRUE(res.set_cookie.empty());
  EXPECT_TRUE(d.click.bot);
  EXPECT_EQ(d.click.visitor_id, "");
  EXPECT_FALSE(d.click.new_visitor);
}

TEST_F(Fixture, HeadAndPrefetchAreBots) {
  Decision d = Run(&rec, "", /*head=*/true);
  EXPECT_TRUE(d.click.bot);
  EXPECT_EQ(d.click.method, "HEAD");
  EXPECT_TRUE(res.set_cookie.empty());
  req.sec_purpose = "prefetch";
  d = Run(&rec);
  EXPECT_TRUE(d.click.bot);
}

TEST_F(Fixture, UnknownCodeIs404AndAnOrphan) {
  Decision d = Run(nullptr, "utm_source=x");
  EXPECT_EQ(res.status, 404);
  EXPECT_TRUE(res.location.empty());
  EXPECT_TRUE(res.set_cookie.empty());
  EXPECT_EQ(d.click.type, ClickType::kOrphan);
  EXPECT_EQ(d.click.referrer_id, "");
  EXPECT_EQ(d.click.utm[0], "x");
  EXPECT_EQ(d.click.status, 404);
}

TEST_F(Fixture, UnknownCodeFallsBackToNotFoundUrl) {
  opt.not_found_url = "https://example.com/oops";
  Decision d = Run(nullptr);
  EXPECT_EQ(res.status, 302);
  EXPECT_EQ(res.location, "https://example.com/oops");
  EXPECT_EQ(d.click.status, 302);
}

TEST_F(Fixture, ExpiredDisabledAndDeletedCodesAreGone) {
  CodeRecord expired = rec;
  expired.expires_at = kNow / 1000000;  // expiry is exclusive
  CodeRecord disabled = rec;
  disabled.status = CodeStatus::kDisabled;
  CodeRecord deleted = rec;
  deleted.status = CodeStatus::kDeleted;
  for (const CodeRecord* r : {&expired, &disabled, &deleted}) {
    Decision d = Run(r);
    EXPECT_EQ(res.status, 410);
    EXPECT_EQ(d.click.type, ClickType::kClick);
    EXPECT_EQ(d.click.referrer_id, "cust_1");
    EXPECT_TRUE(res.set_cookie.empty());
  }
  opt.expired_url = "https://example.com/expired";
  Run(&expired);
  EXPECT_EQ(res.status, 302);
  EXPECT_EQ(res.location, "https://example.com/expired");
  CodeRecord future = rec;
  future.expires_at = kNow / 1000000 + 1;
  Run(&future);
  EXPECT_EQ(res.status, 302);
  EXPECT_NE(res.location.find("rg_click="), std::string::npos);
}

TEST_F(Fixture, NoTrackRedirectsWithoutRecordingOrAClickId) {
  Decision d = Run(&rec, "rg_notrack=1&rg_click=forged");
  EXPECT_EQ(res.status, 302);
  EXPECT_FALSE(d.record);
  EXPECT_EQ(res.location.find("rg_notrack"), std::string::npos);
  // No record holds a click id, so the landing page gets none.
  EXPECT_EQ(res.location, "https://example.com/welcome?utm_source=referral&ref=Ab3xY9k");
}

TEST_F(Fixture, AQrVisitIsRecordedViaQrAndRedirectedLikeALink) {
  Decision qr = Run(&rec, "qr=1");
  EXPECT_EQ(res.status, 302);
  EXPECT_EQ(qr.click.via, Via::kQr);
  EXPECT_EQ(res.location.find("qr="), std::string::npos) << res.location;
  res.Reset();
  Decision link = Run(&rec, "qr=0");
  EXPECT_EQ(link.click.via, Via::kLink);
  EXPECT_NE(res.location.find("qr=0"), std::string::npos) << res.location;
  res.Reset();
  EXPECT_EQ(Run(nullptr, "qr=1").click.via, Via::kQr);  // an orphan's record says so too
}

TEST_F(Fixture, StoredStringsAreCut) {
  std::string ua = std::string(kBrowser) + std::string(1000, 'x');
  std::string ref(5000, 'r');
  req.user_agent = ua;
  req.referer = ref;
  Decision d = Run(&rec, "utm_source=" + std::string(600, 's'));
  EXPECT_EQ(d.click.user_agent.size(), kMaxUserAgentBytes);
  EXPECT_EQ(d.click.referer.size(), kMaxRefererBytes);
  EXPECT_EQ(d.click.utm[0].size(), kMaxUtmBytes);
}

// The handler reuses one Decision per thread: whatever an earlier visit
// set, the next decision equals a fresh one.
TEST_F(Fixture, AReusedDecisionCarriesNothingOver) {
  Decision reused;
  auto decide = [&](const CodeRecord* r, std::string_view query) {
    Visit v{false, "Ab3xY9k", query, &req, kNow, "NEWVISITOR0000000000000", "CLICKID"};
    res.Reset();
    DecideRedirect(opt, v, r, &res, &reused);
    res.Reset();
    Decision fresh = DecideRedirect(opt, v, r, &res);
    EXPECT_EQ(reused.record, fresh.record);
    EXPECT_EQ(reused.click, fresh.click);
  };
  req.cookie = "rg_vid=RETURNING00000000000000";
  reused.click.seq = 7;
  decide(&rec, "utm_source=a");  // a returning visitor on a live code
  req.cookie = "";
  req.user_agent = "Slackbot-LinkExpanding 1.0";
  decide(nullptr, "");  // then a bot on an unknown code: no visitor, no referrer
  req.user_agent = kBrowser;
  decide(&rec, "rg_notrack=1");
  decide(&rec, "qr=1");
  decide(&rec, "");  // a new visitor, by link after a QR visit
}

}  // namespace
}  // namespace refgate
