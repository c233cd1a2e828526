// Admin input validation (SPEC §3): the edges of each rule, and the inputs
// an open redirector would be made of.
#include "admin/validate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace refgate {
namespace {

const std::vector<std::string> kHosts = {"example.com", "*.example.com"};

TEST(FieldError, IsA400ValidationErrorNamingTheField) {
  ApiError e = FieldError("target_url", "scheme must be http or https");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type, "validation_error");
  EXPECT_EQ(e.field, "target_url");
  EXPECT_EQ(e.message, "scheme must be http or https");
}

TEST(ReservedCode, EveryRouteNameIsReservedInAnyCase) {
  for (const char* code : {"api", "healthz", "readyz", "metrics", "favicon.ico", "robots.txt",
                           "API", "Healthz", "METRICS", "Robots.TXT"}) {
    EXPECT_TRUE(IsReservedCode(code)) << code;
  }
}

TEST(ReservedCode, NamesThatOnlyResembleARouteAreFree) {
  for (const char* code : {"", "ap", "apis", "api_", "healthz2", "metric", "robots", "favicon",
                           "faviconXico", "xapi", " api"}) {
    EXPECT_FALSE(IsReservedCode(code)) << code;
  }
}

TEST(ReferrerId, LengthIsOneTo128) {
  EXPECT_FALSE(IsValidReferrerId(""));
  EXPECT_TRUE(IsValidReferrerId("a"));
  EXPECT_TRUE(IsValidReferrerId("7"));
  EXPECT_TRUE(IsValidReferrerId("a" + std::string(127, 'b')));
  EXPECT_FALSE(IsValidReferrerId("a" + std::string(128, 'b')));
}

TEST(ReferrerId, EveryLetterDigitAndAllowedSymbolIsAccepted) {
  EXPECT_TRUE(IsValidReferrerId("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"));
  for (char symbol : std::string("_.@:-")) {
    EXPECT_TRUE(IsValidReferrerId(std::string("a") + symbol + "b")) << symbol;
    EXPECT_TRUE(IsValidReferrerId(std::string("9") + symbol)) << symbol;  // last is fine too
  }
}

TEST(ReferrerId, FirstCharacterMustBeALetterOrDigit) {
  for (char symbol : std::string("_.@:-")) {
    EXPECT_FALSE(IsValidReferrerId(std::string(1, symbol) + "abc")) << symbol;
  }
}

TEST(ReferrerId, AnyOtherByteIsRefused) {
  // Neighbours of the allowed ranges, separators, and bytes that are not ASCII.
  for (const std::string& bad :
       std::vector<std::string>{"a/", "a;", "a[", "a`", "a{", "a ", "a+", "a#", "a%", "a?", "a~",
                                "a\n", std::string("a\0b", 3), "caf\xc3\xa9", "a\x80", "a\x7f"}) {
    EXPECT_FALSE(IsValidReferrerId(bad)) << bad;
  }
}

TEST(TargetUrl, HttpAndHttpsUrlsOnAllowedHostsPass) {
  for (const char* url :
       {"https://example.com/welcome", "http://example.com", "https://shop.example.com/a?b=c#d",
        "https://EXAMPLE.COM/", "https://example.com:8443/x"}) {
    EXPECT_EQ(CheckTargetUrl(url, kHosts), "") << url;
  }
}

TEST(TargetUrl, HostsOffTheAllowListAreRefused) {
  for (const char* url : {"https://evil.com/", "https://example.com.evil.com/",
                          "https://notexample.com/", "https://evil.com/?next=https://example.com",
                          "https://evil.com/#@example.com", "https://example.com@evil.com/"}) {
    EXPECT_NE(CheckTargetUrl(url, kHosts), "") << url;
  }
  const std::vector<std::string> exact = {"example.com"}, subdomains = {"*.example.com"};
  EXPECT_NE(CheckTargetUrl("https://shop.example.com/", exact), "");
  EXPECT_NE(CheckTargetUrl("https://example.com/", subdomains), "");  // not the parent itself
  EXPECT_NE(CheckTargetUrl("https://example.com/", {}), "");          // an empty list allows none
}

TEST(TargetUrl, CredentialsAreRefusedEvenOnAnAllowedHost) {
  EXPECT_NE(CheckTargetUrl("https://user:pass@example.com/", kHosts), "");
  EXPECT_NE(CheckTargetUrl("https://user@example.com/", kHosts), "");
}

TEST(TargetUrl, ControlCharactersAreRefused) {
  for (const std::string& url : std::vector<std::string>{
           "https://example.com/a\nb", "https://example.com/a\rb", "https://example.com/\t",
           "https://example.com/\x7f", std::string("https://example.com/a\0b", 23)}) {
    EXPECT_NE(CheckTargetUrl(url, kHosts), "") << url;
  }
}

TEST(TargetUrl, AtMost2048Bytes) {
  const std::string base = "https://example.com/";
  EXPECT_EQ(CheckTargetUrl(base + std::string(2048 - base.size(), 'a'), kHosts), "");
  EXPECT_NE(CheckTargetUrl(base + std::string(2049 - base.size(), 'a'), kHosts), "");
}

TEST(TargetUrl, OtherSchemesAndRelativeUrlsAreRefused) {
  for (const char* url :
       {"ftp://example.com/", "javascript:alert(1)", "file:///etc/passwd", "data:text/html,hi",
        "mailto:a@example.com", "ws://example.com/", "//example.com/", "example.com/welcome",
        "/welcome", "", "https:///no-host", "https://"}) {
    EXPECT_NE(CheckTargetUrl(url, kHosts), "") << url;
  }
}

TEST(ConstantTime, EqualOnlyForTheSameBytesAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("s3cr3t-token", "s3cr3t-token"));
  EXPECT_FALSE(ConstantTimeEquals("s3cr3t-token", "s3cr3t-tokeN"));
  EXPECT_FALSE(ConstantTimeEquals("S3cr3t-token", "s3cr3t-token"));  // first byte
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("\x80", 1), std::string_view("\0", 1)));
  EXPECT_FALSE(ConstantTimeEquals("token", "token2"));
  EXPECT_FALSE(ConstantTimeEquals("token2", "token"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  // Missing bytes must not compare as NULs.
  EXPECT_FALSE(ConstantTimeEquals("ab", std::string("ab\0", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab\0", 3), "ab"));
}

}  // namespace
}  // namespace refgate
