#include "admin/codec.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace refgate {
namespace json = boost::json;

struct CodecTest : testing::Test {
  CodePolicy policy{
      "https://example.com/", {"example.com", "*.example.com"}, 302, "http://go.test"};

  std::optional<ApiError> Create(std::string_view body, CodeRecord* rec) {
    return ApplyCodeFields(json::parse(body).as_object(), CodeFields::kCreate, policy, rec);
  }
  std::optional<ApiError> Patch(std::string_view body, CodeRecord* rec) {
    return ApplyCodeFields(json::parse(body).as_object(), CodeFields::kPatch, policy, rec);
  }
  std::string FieldOf(std::string_view body) {
    CodeRecord rec;
    auto e = Create(body, &rec);
    return e ? e->field : "(none)";
  }
};

TEST_F(CodecTest, CreateReadsEveryField) {
  CodeRecord rec;
  auto e = Create(R"({"referrer_id": "cust_123", "code": "Ab3xY9k",
      "target_url": "https://shop.example.com/w", "campaign": "spring",
      "utm": {"source": "referral", "content": "c"}, "redirect_status": 301,
      "expires_at": "2026-12-01T00:00:00Z"})",
                  &rec);
  ASSERT_FALSE(e) << e->message;
  EXPECT_EQ(rec.referrer_id, "cust_123");
  EXPECT_EQ(rec.code, "Ab3xY9k");
  EXPECT_EQ(rec.target_url, "https://shop.example.com/w");
  EXPECT_EQ(rec.campaign, "spring");
  EXPECT_EQ(rec.utm[0], "referral");
  EXPECT_EQ(rec.utm[4], "c");
  EXPECT_EQ(rec.redirect_status, 301);
  EXPECT_EQ(rec.expires_at, 1796083200);
}

TEST_F(CodecTest, CreateDefaultsTheTarget) {
  CodeRecord rec;
  ASSERT_FALSE(Create(R"({"referrer_id": "r1"})", &rec));
  EXPECT_EQ(rec.target_url, "https://example.com/");
  EXPECT_TRUE(rec.code.empty());  // the caller generates one
}

TEST_F(CodecTest, EachBadFieldIsNamed) {
  EXPECT_EQ(FieldOf(R"({})"), "referrer_id");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "_starts_badly"})"), "referrer_id");
  EXPECT_EQ(FieldOf(R"({"referrer_id": 12})"), "referrer_id");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "code": "ab"})"), "code");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "code": "has space"})"), "code");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "code": "healthz"})"), "code");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "code": "API"})"), "code");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "target_url": "https://evil.test/"})"), "target_url");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "target_url": "https://example.com.evil.test/"})"),
            "target_url");
  EXPECT_EQ(FieldOf(R"j({"referrer_id": "r", "target_url": "javascript:alert(1)"})j"),
            "target_url");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "target_url": "https://u:p@example.com/"})"),
            "target_url");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "target_url": "https://example.com/\r\n"})"),
            "target_url");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "redirect_status": 303})"), "redirect_status");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "redirect_status": "302"})"), "redirect_status");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "expires_at": "tomorrow"})"), "expires_at");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "utm": {"sauce": "x"}})"), "utm.sauce");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "utm": {"source": 1}})"), "utm.source");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "utm": "x"})"), "utm");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "colour": "red"})"), "colour");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "status": "active"})"), "status");
  std::string long_utm =
      R"({"referrer_id": "r", "utm": {"source": ")" + std::string(257, 'x') + "\"}}";
  EXPECT_EQ(FieldOf(long_utm), "utm.source");
  EXPECT_EQ(FieldOf(R"({"referrer_id": "r", "utm": {"source": ")" + std::string(256, 'x') + "\"}}"),
            "(none)");
}

TEST_F(CodecTest, PatchMergesUtmAndChangesStatus) {
  CodeRecord rec;
  ASSERT_FALSE(Create(R"({"referrer_id": "r", "utm": {"source": "a", "medium": "b"}})", &rec));
  ASSERT_FALSE(Patch(R"({"utm": {"medium": null, "term": "t"}, "status": "disabled",
                         "campaign": null, "expires_at": null, "redirect_status": null})",
                     &rec));
  EXPECT_EQ(rec.utm[0], "a");
  EXPECT_EQ(rec.utm[1], "");
  EXPECT_EQ(rec.utm[3], "t");
  EXPECT_EQ(rec.status, CodeStatus::kDisabled);
  auto e = Patch(R"({"status": "deleted"})", &rec);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "status");
  e = Patch(R"({"referrer_id": "other"})", &rec);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "referrer_id");
  e = Patch(R"({"code": "newcode"})", &rec);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "code");
}

TEST_F(CodecTest, CodeToJsonHasTheSpecShape) {
  CodeRecord rec;
  rec.code = "Ab3xY9k";
  rec.referrer_id = "cust_123";
  rec.target_url = "https://example.com/welcome";
  rec.campaign = "spring";
  rec.utm[0] = "referral";
  rec.created_at = 1795341600;
  json::object o = CodeToJson(rec, policy);
  EXPECT_EQ(json::serialize(o),
            R"({"code":"Ab3xY9k","short_url":"http://go.test/Ab3xY9k","referrer_id":"cust_123",)"
            R"("target_url":"https://example.com/welcome","campaign":"spring",)"
            R"("utm":{"source":"referral"},"redirect_status":302,"status":"active",)"
            R"("created_at":"2026-11-22T10:00:00Z","expires_at":null})");
}

TEST_F(CodecTest, ErrorJsonShape) {
  EXPECT_EQ(ErrorToJson(FieldError("target_url", "bad")),
            R"({"error":{"type":"validation_error","message":"bad","field":"target_url"}})");
  EXPECT_EQ(ErrorToJson(ApiError{404, "not_found", "no", ""}),
            R"({"error":{"type":"not_found","message":"no","field":null}})");
}

TEST(Validate, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret1"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

TEST(Validate, ReferrerIds) {
  EXPECT_TRUE(IsValidReferrerId("cust_123"));
  EXPECT_TRUE(IsValidReferrerId("a.b@c:d-e"));
  EXPECT_TRUE(IsValidReferrerId(std::string(128, 'a')));
  EXPECT_FALSE(IsValidReferrerId(std::string(129, 'a')));
  EXPECT_FALSE(IsValidReferrerId(""));
  EXPECT_FALSE(IsValidReferrerId("-lead"));
  EXPECT_FALSE(IsValidReferrerId("a b"));
  EXPECT_FALSE(IsValidReferrerId("a/b"));
}

}  // namespace refgate
