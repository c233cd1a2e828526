#include "redirect/location.h"

#include <gtest/gtest.h>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>
#include <random>

namespace refgate {

CodeRecord Code(std::string target) {
  CodeRecord r;
  r.code = "Ab3xY9k";
  r.referrer_id = "cust_1";
  r.target_url = std::move(target);
  return r;
}

std::string Loc(const CodeRecord& rec, std::string_view query, LocationOptions opt = {}) {
  return BuildLocation(opt, rec, ParseVisitorQuery(query, "rg_notrack"), "CLICK").url;
}

TEST(Location, AppendsRefAndClickId) {
  EXPECT_EQ(Loc(Code("https://example.com/welcome"), ""),
            "https://example.com/welcome?ref=Ab3xY9k&rg_click=CLICK");
}

TEST(Location, MergesInSpecOrder) {
  CodeRecord rec = Code("https://example.com/w?a=1&utm_source=target");
  rec.utm[0] = "code_source";  // target has utm_source: the target's stays
  rec.utm[1] = "code_medium";  // target lacks it: added
  rec.utm[2] = "code_campaign";
  // The visitor replaces target and code values; ref and the click id are last.
  EXPECT_EQ(Loc(rec, "a=2&utm_campaign=visitor&ref=spoof&rg_click=spoof"),
            "https://example.com/w?utm_source=target&utm_medium=code_medium&a=2"
            "&utm_campaign=visitor&ref=Ab3xY9k&rg_click=CLICK");
}

TEST(Location, VisitorInputIsPercentEncoded) {
  std::string loc =
      Loc(Code("https://example.com/"), "x=%0D%0ASet-Cookie:%20evil&y=%22%3Cscript%3E&z=a%26b%3Dc");
  EXPECT_EQ(loc.find('\r'), std::string::npos);
  EXPECT_EQ(loc.find('\n'), std::string::npos);
  EXPECT_EQ(loc.find(' '), std::string::npos);
  EXPECT_EQ(loc.find('"'), std::string::npos);
  EXPECT_EQ(loc.find('<'), std::string::npos);
  EXPECT_NE(loc.find("x=%0D%0ASet-Cookie%3A%20evil"), std::string::npos) << loc;
  EXPECT_NE(loc.find("&z=a%26b%3Dc&"), std::string::npos) << loc;  // & and = stay data
}

// Found by fuzz_location: Boost 1.81 left ']' unencoded in the query.
TEST(Location, EveryVisitorByteOutsideUnreservedIsEncoded) {
  CodeRecord rec = Code("https://example.com/");
  rec.utm[0] = "a]b[c d";
  std::string loc = Loc(rec, "k%5D%5B=v%5D%5B%7B%7C%7D%22%5E%60%5C");
  EXPECT_EQ(CheckHttpUrl(loc), "") << loc;
  for (char c : std::string("[]{}|\"^` ")) EXPECT_EQ(loc.find(c), std::string::npos) << c << loc;
  EXPECT_NE(loc.find("utm_source=a%5Db%5Bc%20d"), std::string::npos) << loc;
  EXPECT_NE(loc.find("k%5D%5B=v%5D%5B%7B%7C%7D%22%5E%60%5C"), std::string::npos) << loc;
}

TEST(Location, NoTrackParamIsDroppedAndReported) {
  VisitorQuery q = ParseVisitorQuery("a=1&rg_notrack=1", "rg_notrack");
  EXPECT_TRUE(q.no_track);
  EXPECT_EQ(BuildLocation({}, Code("https://example.com/"), q, "C").url,
            "https://example.com/?a=1&ref=Ab3xY9k&rg_click=C");
}

// SPEC §7: a QR code's link carries qr=1; it marks the visit and is not
// forwarded. Any other qr value is the visitor's own parameter.
TEST(Location, QrOneIsDroppedAndReportedOtherQrValuesAreForwarded) {
  VisitorQuery q = ParseVisitorQuery("qr=1&a=1", "rg_notrack");
  EXPECT_TRUE(q.qr);
  EXPECT_EQ(BuildLocation({}, Code("https://example.com/"), q, "C").url,
            "https://example.com/?a=1&ref=Ab3xY9k&rg_click=C");
  for (std::string_view raw : {"qr=2", "qr", "qr=", "QR=1"}) {
    q = ParseVisitorQuery(raw, "rg_notrack");
    EXPECT_FALSE(q.qr) << raw;
    EXPECT_EQ(q.params.size(), 1u) << raw;
  }
}

TEST(Location, ForwardQueryOffKeepsVisitorParamsOutButRecordsTheirUtm) {
  LocationOptions opt;
  opt.forward_query = false;
  opt.ref_param = "";
  opt.click_param = "";
  Location loc = BuildLocation(opt, Code("https://example.com/"),
                               ParseVisitorQuery("utm_source=mail&x=1", ""), "C");
  EXPECT_EQ(loc.url, "https://example.com/");
  EXPECT_EQ(loc.utm[0], "mail");
}

TEST(Location, RecordedUtmIsTheVisitorsElseTheCodes) {
  CodeRecord rec = Code("https://example.com/?utm_term=t");
  rec.utm[0] = "code_source";
  rec.utm[1] = "code_medium";
  Location loc = BuildLocation({}, rec, ParseVisitorQuery("utm_medium=email", ""), "C");
  EXPECT_EQ(loc.utm[0], "code_source");
  EXPECT_EQ(loc.utm[1], "email");
  EXPECT_EQ(loc.utm[2], "");
  EXPECT_EQ(loc.utm[3], "t");
}

TEST(Location, AMalformedPairDropsOnlyItself) {
  VisitorQuery q = ParseVisitorQuery("a=%zz", "");
  EXPECT_TRUE(q.params.empty());
  EXPECT_EQ(BuildLocation({}, Code("https://example.com/"), q, "C").url,
            "https://example.com/?ref=Ab3xY9k&rg_click=C");
  EXPECT_EQ(Loc(Code("https://example.com/"), "a=%zz&b=1&%4=x&c=%4&d=2&&e"),
            "https://example.com/?b=1&d=2&e&ref=Ab3xY9k&rg_click=CLICK");
}

// Bytes a browser may leave unescaped in a query ('|', '"', '{') are data,
// not malformed escapes: kept, and encoded on the way out.
TEST(Location, UnescapedBytesInTheVisitorQueryAreKeptAndEncoded) {
  VisitorQuery q = ParseVisitorQuery("a=b|c&d=\"x\"&e={}", "");
  ASSERT_EQ(q.params.size(), 3u);
  EXPECT_EQ(q.params[0].value, "b|c");
  EXPECT_EQ(BuildLocation({}, Code("https://example.com/"), q, "").url,
            "https://example.com/?a=b%7Cc&d=%22x%22&e=%7B%7D&ref=Ab3xY9k");
}

// As in an HTML form: '+' is a space, and the visitor's "%2B" a plus.
TEST(Location, PlusInTheVisitorQueryStaysASpace) {
  VisitorQuery q = ParseVisitorQuery("utm_source=a+b&q=1%2B1&k+y=v", "");
  EXPECT_EQ(q.utm[0], "a b");  // recorded as the visitor meant it
  EXPECT_EQ(BuildLocation({}, Code("https://example.com/"), q, "C").url,
            "https://example.com/?utm_source=a%20b&q=1%2B1&k%20y=v&ref=Ab3xY9k&rg_click=C");
}

TEST(Location, RepeatedVisitorKeysKeepEveryValueInOrder) {
  // The visitor's tag replaces the target's, and both of the visitor's stay.
  EXPECT_EQ(Loc(Code("https://example.com/?tag=t&x=1"), "tag=a&y=2&tag=b"),
            "https://example.com/?x=1&tag=a&y=2&tag=b&ref=Ab3xY9k&rg_click=CLICK");
}

// Without a click id (a visit not recorded), no click_param reaches the
// landing page at all: not one the visitor sent, nor one in the target.
TEST(Location, NoClickIdIsAddedWithoutOne) {
  EXPECT_EQ(BuildLocation({}, Code("https://example.com/"), ParseVisitorQuery("a=1", ""), "").url,
            "https://example.com/?a=1&ref=Ab3xY9k");
  EXPECT_EQ(BuildLocation({}, Code("https://example.com/?rg_click=t"),
                          ParseVisitorQuery("rg_click=forged&a=1", ""), "")
                .url,
            "https://example.com/?a=1&ref=Ab3xY9k");
}

TEST(Location, KeepsTheFragmentLast) {
  EXPECT_EQ(Loc(Code("https://example.com/p#top"), "a=1"),
            "https://example.com/p?a=1&ref=Ab3xY9k&rg_click=CLICK#top");
}

TEST(Location, CheckHttpUrl) {
  EXPECT_EQ(CheckHttpUrl("https://example.com/a?b=c#d"), "");
  EXPECT_EQ(CheckHttpUrl("http://example.com:8080"), "");
  EXPECT_NE(CheckHttpUrl("ftp://example.com/"), "");
  EXPECT_NE(CheckHttpUrl("javascript:alert(1)"), "");
  EXPECT_NE(CheckHttpUrl("//example.com/"), "");
  EXPECT_NE(CheckHttpUrl("/relative"), "");
  EXPECT_NE(CheckHttpUrl("https://user:pw@example.com/"), "");
  EXPECT_NE(CheckHttpUrl("https://example.com/\r\nX: y"), "");
  EXPECT_NE(CheckHttpUrl("https://example.com/ space"), "");
  EXPECT_NE(CheckHttpUrl("https:///nohost"), "");
  EXPECT_NE(CheckHttpUrl("https://example.com/" + std::string(2100, 'a')), "");
}

TEST(Location, HostAllowList) {
  std::vector<std::string> allowed{"example.com", "*.shop.test"};
  EXPECT_TRUE(HostAllowed("example.com", allowed));
  EXPECT_TRUE(HostAllowed("EXAMPLE.com", allowed));
  EXPECT_FALSE(HostAllowed("www.example.com", allowed));
  EXPECT_TRUE(HostAllowed("a.shop.test", allowed));
  EXPECT_TRUE(HostAllowed("a.b.shop.test", allowed));
  EXPECT_FALSE(HostAllowed("shop.test", allowed));
  EXPECT_FALSE(HostAllowed("evilshop.test", allowed));
  EXPECT_FALSE(HostAllowed("example.com.evil.test", allowed));
  EXPECT_EQ(HostOf("https://Example.COM:8443/x"), "example.com");
}

// IPv6 literals, bracketed as RFC 3986 writes them in URLs, or bare.
TEST(Location, Ipv6LiteralsAreHostsInAnySpelling) {
  EXPECT_TRUE(IsIpv6Literal("[::1]"));
  EXPECT_TRUE(IsIpv6Literal("::1"));
  EXPECT_TRUE(IsIpv6Literal("[2001:DB8::0:1]"));
  EXPECT_FALSE(IsIpv6Literal("[::1"));
  EXPECT_FALSE(IsIpv6Literal("127.0.0.1"));
  EXPECT_FALSE(IsIpv6Literal("[127.0.0.1]"));
  EXPECT_FALSE(IsIpv6Literal("example.com"));
  EXPECT_EQ(CheckHttpUrl("http://[::1]:9/x"), "");
  EXPECT_EQ(HostOf("http://[::1]:9/x"), "[::1]");
  for (std::vector<std::string> allowed :
       {std::vector<std::string>{"[::1]"}, std::vector<std::string>{"::1"},
        std::vector<std::string>{"[0:0::1]"}}) {
    EXPECT_TRUE(HostAllowed(HostOf("http://[::1]:9/x"), allowed)) << allowed[0];
    EXPECT_TRUE(HostAllowed(HostOf("http://[0::0:1]/"), allowed)) << allowed[0];
    EXPECT_FALSE(HostAllowed(HostOf("http://[::2]/"), allowed)) << allowed[0];
  }
  EXPECT_TRUE(HostAllowed("[2001:db8::1]", std::vector<std::string>{"2001:DB8::1"}));
}

}  // namespace refgate

namespace refgate {

// Regression: Boost 1.81's parse_query read up to the next NUL, past the end
// of a view; Beast hands us views into a larger buffer.
TEST(Location, ParseQueryStopsAtTheEndOfTheView) {
  std::string buffer = "limit=1000 HTTP/1.1\r\nHost: x&evil=1";
  std::vector<QueryParam> params;
  ASSERT_TRUE(ParseQuery(std::string_view(buffer).substr(0, 10), &params));
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].key, "limit");
  EXPECT_EQ(params[0].value, "1000");
  VisitorQuery q = ParseVisitorQuery(std::string_view(buffer).substr(0, 8), "");
  ASSERT_EQ(q.params.size(), 1u);
  EXPECT_EQ(q.params[0].value, "10");
}

TEST(Location, ParseQueryIsRepeatable) {
  for (int round = 0; round < 3; ++round) {
    for (std::string q : {"limit=1000", "limit=0", "limit=1000", "a=%41b&c"}) {
      std::vector<QueryParam> params;
      ASSERT_TRUE(ParseQuery(q, &params));
      ASSERT_FALSE(params.empty());
      std::string expect = q.substr(q.find('=') + 1);
      if (q.starts_with("a=")) expect = "Ab";
      EXPECT_EQ(params[0].value, expect) << q;
    }
  }
}

// The merge as SPEC words it, written with Boost.URL's params API one step
// at a time (refgate's first implementation; slower, and plain to read).
// BuildLocation must produce the same bytes.
std::string ReferenceLocation(const LocationOptions& opt, const CodeRecord& rec,
                              const VisitorQuery& visit, std::string_view click_id) {
  namespace urls = boost::urls;
  auto append = [](urls::url& u, std::string_view key, std::string_view value, bool has_value) {
    std::string k = urls::encode(key, urls::unreserved_chars);
    if (!has_value) {
      u.encoded_params().append(urls::param_pct_view(urls::pct_string_view(k), urls::no_value));
      return;
    }
    std::string v = urls::encode(value, urls::unreserved_chars);
    u.encoded_params().append(
        urls::param_pct_view(urls::pct_string_view(k), urls::pct_string_view(v)));
  };
  urls::url u(rec.target_url);
  urls::params_ref ps = u.params();
  for (int i = 0; i < kUtmFieldCount; ++i) {
    if (!rec.utm[i].empty() && !ps.contains(kUtmParams[i])) {
      append(u, kUtmParams[i], rec.utm[i], true);
    }
  }
  if (opt.forward_query) {
    // The visitor's keys replace earlier ones; the visitor's own repeats stay.
    for (const auto& p : visit.params) ps.erase(p.key);
    for (const auto& p : visit.params) append(u, p.key, p.value, p.has_value);
  }
  if (!opt.ref_param.empty()) ps.set(opt.ref_param, rec.code);
  if (!opt.click_param.empty()) ps.set(opt.click_param, click_id);
  return std::string(u.buffer());
}

TEST(Location, SameBytesAsTheStepByStepMerge) {
  const std::vector<std::string> targets = {
      "https://example.com/",
      "https://example.com",
      "https://example.com/p?",
      "https://example.com/p?a=1&b=2",
      "https://example.com/p?a=1&a=2&ref=old&x",
      "https://example.com/p?utm_source=site&utm_medium=&q=%20x#frag",
      "https://example.com/p#only-fragment",
      "http://example.com:8080/a/b?ref=1&rg_click=2&ref=3",
      "https://example.com/p?%61=encoded-key&a=plain",
      "https://example.com/p?&&a=1&",
      "https://example.com/p#frag?not=query",
      "https://example.com/p?a=1#frag?b=2&c",
      "https://user-less.example.com:443?a=b",
  };
  const std::vector<std::string> queries = {
      "",
      "a=9",
      "a=9&a=8",
      "x",
      "x=",
      "utm_source=mail&utm_campaign=spring",
      "ref=evil&rg_click=x",
      "k%20y=v%26w&%C3%A9=%F0%9F%98%80",
      "q=%5B%5D%23%3F&b=+",
      "rg_notrack=1&a=1",
      "=v&k=",
      "a=1&&b=2",
      "%61=enc",
  };
  std::mt19937 rng(7);
  for (const auto& t : targets) {
    for (const auto& q : queries) {
      for (int variant = 0; variant < 4; ++variant) {
        CodeRecord rec = Code(t);
        if (variant & 1) rec.utm = {"referral", "", "spring sale", "", "a&b"};
        LocationOptions opt;
        if (variant & 2) opt.forward_query = false;
        if (rng() % 3 == 0) opt.ref_param = "";
        if (rng() % 3 == 0) opt.click_param = "";
        VisitorQuery vq = ParseVisitorQuery(q, "rg_notrack");
        EXPECT_EQ(BuildLocation(opt, rec, vq, "CLICK").url,
                  ReferenceLocation(opt, rec, vq, "CLICK"))
            << "target " << t << " query " << q << " variant " << variant;
      }
    }
  }
}

}  // namespace refgate
