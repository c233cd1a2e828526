#include "redirect/bot.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace refgate {

TEST(Bot, RecognisesCrawlersUnfurlersAndLibraries) {
  for (const char* ua :
       {"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Twitterbot/1.0", "LinkedInBot/1.0 (compatible; Mozilla/5.0)", "WhatsApp/2.23.20.0",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "TelegramBot (like TwitterBot)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0)", "curl/8.4.0", "Wget/1.21", "python-requests/2.31",
        "Go-http-client/1.1", "SomeCrawler/1.0", "MySpider", "Link PREVIEW service", ""}) {
    EXPECT_TRUE(IsBotUserAgent(ua)) << ua;
  }
}

TEST(Bot, BrowsersAreNotBots) {
  for (const char* ua :
       {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"}) {
    EXPECT_FALSE(IsBotUserAgent(ua)) << ua;
  }
}

// Every needle, wherever it sits: first, last, past 512 bytes, in any case,
// and cut short by the end of the agent (no match, no overread).
TEST(Bot, FindsEachNeedleAnywhereInAnyCase) {
  const std::string pad(600, 'x');
  for (std::string needle : {"bot",
                             "crawl",
                             "spider",
                             "preview",
                             "facebookexternalhit",
                             "whatsapp",
                             "curl/",
                             "wget/",
                             "python-requests",
                             "python-urllib",
                             "aiohttp",
                             "httpx",
                             "go-http-client",
                             "java/",
                             "okhttp",
                             "axios/",
                             "node-fetch",
                             "undici",
                             "libwww-perl",
                             "httpclient",
                             "headlesschrome",
                             "scrapy"}) {
    std::string upper = needle;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(IsBotUserAgent(needle + " 1.0")) << needle;
    EXPECT_TRUE(IsBotUserAgent("Agent/1.0 " + upper)) << upper;
    EXPECT_TRUE(IsBotUserAgent(pad + needle)) << needle << " after 600 bytes";
    std::string cut = needle.substr(0, needle.size() - 1);
    EXPECT_FALSE(IsBotUserAgent("Agent " + cut)) << cut;
  }
}

TEST(Bot, PrefetchHeaders) {
  EXPECT_TRUE(IsPrefetch("prefetch", ""));
  EXPECT_TRUE(IsPrefetch("prefetch;prerender", ""));
  EXPECT_TRUE(IsPrefetch("", "Prefetch"));
  EXPECT_FALSE(IsPrefetch("", ""));
  EXPECT_FALSE(IsPrefetch("prerender", ""));
}

}  // namespace refgate
