#include "redirect/attribution.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace refgate {

IpAddress Ip(std::string_view s) {
  IpAddress ip;
  EXPECT_TRUE(ParseIp(s, &ip)) << s;
  return ip;
}

TEST(Attribution, AnonymizesIpv4To24AndIpv6To48) {
  EXPECT_EQ(RecordedIp(Ip("203.0.113.77"), true), "203.0.113.0");
  EXPECT_EQ(RecordedIp(Ip("2001:db8:abcd:1234::1"), true), "2001:db8:abcd::");
  EXPECT_EQ(RecordedIp(Ip("203.0.113.77"), false), "203.0.113.77");
}

TEST(Attribution, CidrMatching) {
  Cidr c;
  ASSERT_TRUE(ParseCidr("10.0.0.0/8", &c));
  EXPECT_TRUE(CidrContains(c, Ip("10.200.1.1")));
  EXPECT_FALSE(CidrContains(c, Ip("11.0.0.1")));
  EXPECT_FALSE(CidrContains(c, Ip("::ffff:0:0")));  // v6 never matches a v4 range
  ASSERT_TRUE(ParseCidr("2001:db8::/32", &c));
  EXPECT_TRUE(CidrContains(c, Ip("2001:db8:ffff::1")));
  ASSERT_TRUE(ParseCidr("192.0.2.7", &c));
  EXPECT_TRUE(CidrContains(c, Ip("192.0.2.7")));
  EXPECT_FALSE(CidrContains(c, Ip("192.0.2.8")));
  EXPECT_FALSE(ParseCidr("10.0.0.0/", &c));
  EXPECT_FALSE(ParseCidr("10.0.0.0/33", &c));
  EXPECT_FALSE(ParseCidr("nonsense", &c));
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

TEST(Attribution, FormatIpV4AgreesWithInetNtop) {
  for (uint32_t v : {0u, 1u, 9u, 10u, 99u, 100u, 255u, 256u, 0x0a000005u, 0x7f000001u,
                     0xc0a80101u, 0xfffffffeu, 0xffffffffu, 0x01020304u, 0xdeadbeefu}) {
    IpAddress ip;
    ip.v4 = true;
    ip.bytes[10] = ip.bytes[11] = 0xff;
    for (int i = 0; i < 4; ++i) ip.bytes[12 + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
    char want[INET_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET, ip.bytes.data() + 12, want, sizeof want), nullptr);
    EXPECT_EQ(FormatIp(ip), want);
  }
}

}  // namespace refgate
