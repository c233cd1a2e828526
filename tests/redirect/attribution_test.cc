#include "redirect/attribution.h"

#include <gtest/gtest.h>

#include "tests/util/parse_ip.h"

namespace refgate {

TEST(Attribution, AnonymizesIpv4To24AndIpv6To48) {
  EXPECT_EQ(RecordedIp(Ip("203.0.113.77"), true), "203.0.113.0");
  EXPECT_EQ(RecordedIp(Ip("2001:db8:abcd:1234::1"), true), "2001:db8:abcd::");
  EXPECT_EQ(RecordedIp(Ip("203.0.113.77"), false), "203.0.113.77");
}

TEST(Attribution, ForwardedForIsBelievedOnlyFromTrustedProxies) {
  Cidr lb;
  ASSERT_TRUE(ParseCidr("10.0.0.0/8", &lb));
  std::vector<Cidr> trusted{lb};
  // From the load balancer: the right-most untrusted hop is the client.
  EXPECT_EQ(FormatIp(ClientIp(Ip("10.0.0.5"), "6.6.6.6, 198.51.100.9, 10.1.1.1", trusted)),
            "198.51.100.9");
  // From anyone else: the header is ignored.
  EXPECT_EQ(FormatIp(ClientIp(Ip("198.51.100.1"), "1.2.3.4", trusted)), "198.51.100.1");
  // Garbage stops the walk at the last good hop.
  EXPECT_EQ(FormatIp(ClientIp(Ip("10.0.0.5"), "1.2.3.4, not-an-ip", trusted)), "10.0.0.5");
  EXPECT_EQ(FormatIp(ClientIp(Ip("10.0.0.5"), "", trusted)), "10.0.0.5");
}

// A client's own X-Forwarded-For line and the proxy's line after it arrive
// joined (ViewRequest): the proxy's entry, the rightmost untrusted one, wins.
TEST(Attribution, ForwardedForLinesAreOneListReadFromTheRight) {
  Cidr lb;
  ASSERT_TRUE(ParseCidr("127.0.0.0/8", &lb));
  std::vector<Cidr> trusted{lb};
  EXPECT_EQ(FormatIp(ClientIp(Ip("127.0.0.1"), "198.51.100.7, 203.0.113.9", trusted)),
            "203.0.113.9");
}

TEST(Attribution, FindsTheVisitorCookieAmongOthers) {
  EXPECT_EQ(FindCookie("a=1; rg_vid=abc; b=2", "rg_vid"), "abc");
  EXPECT_EQ(FindCookie("rg_vid=\"quoted\"", "rg_vid"), "quoted");
  EXPECT_EQ(FindCookie("xrg_vid=1; rg_vidx=2", "rg_vid"), "");
  EXPECT_EQ(FindCookie("", "rg_vid"), "");
  EXPECT_EQ(FindCookie("rg_vid", "rg_vid"), "");
}

TEST(Attribution, VisitorIdMustBeWellFormed) {
  EXPECT_TRUE(IsWellFormedVisitorId("AAAAAAAAAAAAAAAAAAAAAA"));
  EXPECT_TRUE(IsWellFormedVisitorId("v0000000000000000123456"));
  EXPECT_FALSE(IsWellFormedVisitorId("short"));
  EXPECT_FALSE(IsWellFormedVisitorId("AAAAAAAAAAAAAAAA\r\nSet-Cookie"));
  EXPECT_FALSE(IsWellFormedVisitorId(std::string(65, 'a')));
  EXPECT_FALSE(IsWellFormedVisitorId("AAAAAAAA AAAAAAAAAAAAAA"));
}

TEST(Attribution, SetCookieCarriesEveryAttribute) {
  CookieOptions o;
  EXPECT_EQ(SetCookieHeader(o, "abc"),
            "rg_vid=abc; Max-Age=7776000; Path=/; HttpOnly; SameSite=Lax; Secure");
  o.secure = false;
  o.domain = ".example.com";
  o.max_age_days = 1;
  EXPECT_EQ(SetCookieHeader(o, "abc"),
            "rg_vid=abc; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax; Domain=.example.com");
}

TEST(Attribution, TruncationNeverSplitsUtf8) {
  std::string s = "ab\xc3\xa9";  // "abé"
  EXPECT_EQ(TruncateUtf8(s, 3), "ab");
  EXPECT_EQ(TruncateUtf8(s, 4), s);
  EXPECT_EQ(TruncateUtf8("abcdef", 3), "abc");
}

}  // namespace refgate
