#include "redirect/bot.h"

#include <array>
#include <bit>
#include <cstdint>

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

// kStartingWith[c]: bit k set when kNeedles[k] starts with byte c.
constexpr std::array<uint32_t, 256> kStartingWith = [] {
  std::array<uint32_t, 256> t{};
  for (size_t k = 0; k < kNeedles.size(); ++k) {
    t[static_cast<unsigned char>(kNeedles[k][0])] |= uint32_t{1} << k;
  }
  return t;
}();
static_assert(kNeedles.size() <= 32);

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
  // One pass: at each byte, try only the needles that start with it.
  for (size_t i = 0; i < ua.size(); ++i) {
    for (uint32_t m = kStartingWith[static_cast<unsigned char>(Lower(ua[i]))]; m != 0; m &= m - 1) {
      if (StartsWithLower(ua.substr(i), kNeedles[std::countr_zero(m)])) return true;
    }
  }
  return false;
}

bool IsPrefetch(std::string_view sec_purpose, std::string_view purpose) {
  return StartsWithLower(sec_purpose, "prefetch") || StartsWithLower(purpose, "prefetch");
}

}  // namespace refgate
