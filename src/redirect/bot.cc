#include "redirect/bot.h"

#include <array>

namespace refgate {
namespace {

// Lower-case needles. "bot" covers Slackbot, Twitterbot, LinkedInBot,
// Discordbot, TelegramBot, Googlebot, bingbot and most of the rest.
constexpr std::array<std::string_view, 22> kNeedles = {
    "bot",         "crawl",        "spider",      "preview",        "facebookexternalhit",
    "whatsapp",    "curl/",        "wget/",       "python-requests", "python-urllib",
    "aiohttp",     "httpx",        "go-http-client", "java/",       "okhttp",
    "axios/",      "node-fetch",   "undici",      "libwww-perl",    "httpclient",
    "headlesschrome", "scrapy"};

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ContainsLower(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  const size_t last = hay.size() - needle.size();
  for (size_t i = 0; i <= last; ++i) {
    if (Lower(hay[i]) != needle[0]) continue;
    size_t j = 1;
    while (j < needle.size() && Lower(hay[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

bool StartsWithLower(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

bool IsBotUserAgent(std::string_view ua) {
  if (ua.empty()) return true;
  for (std::string_view n : kNeedles) {
    if (ContainsLower(ua, n)) return true;
  }
  return false;
}

bool IsPrefetch(std::string_view sec_purpose, std::string_view purpose) {
  return StartsWithLower(sec_purpose, "prefetch") || StartsWithLower(purpose, "prefetch");
}

}  // namespace refgate
