#include "redirect/bot.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#include "util/ascii.h"

namespace refgate {
namespace {

// Lower-case needles. "bot" covers Slackbot, Twitterbot, LinkedInBot,
// Discordbot, TelegramBot, Googlebot, bingbot and most of the rest.
constexpr std::array<std::string_view, 22> kNeedles = {"bot",
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
                                                       "scrapy"};

// kByteAt[j][c]: bit k set when byte c, lower-cased, is byte j of
// kNeedles[k]. Every needle has at least three bytes, so ANDing the masks of
// three neighbouring bytes leaves only the needles that may start there.
constexpr size_t kFilterBytes = 3;
constexpr std::array<std::array<uint32_t, 256>, kFilterBytes> kByteAt = [] {
  std::array<std::array<uint32_t, 256>, kFilterBytes> t{};
  for (size_t k = 0; k < kNeedles.size(); ++k) {
    for (size_t j = 0; j < kFilterBytes; ++j) {
      char c = kNeedles[k][j];
      t[j][static_cast<unsigned char>(c)] |= uint32_t{1} << k;
      if (c >= 'a' && c <= 'z') t[j][static_cast<unsigned char>(c - 'a' + 'A')] |= uint32_t{1} << k;
    }
  }
  return t;
}();
static_assert(kNeedles.size() <= 32);
static_assert(std::ranges::all_of(kNeedles,
                                  [](std::string_view n) { return n.size() >= kFilterBytes; }));

bool StartsWithLower(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLower(s[i]) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

bool IsBotUserAgent(std::string_view ua) {
  if (ua.empty()) return true;
  // One pass: at each byte, try only the needles whose first three bytes
  // match the three bytes from there; none fits in the last two bytes.
  const auto* u = reinterpret_cast<const unsigned char*>(ua.data());
  for (size_t i = 0; i + kFilterBytes <= ua.size(); ++i) {
    uint32_t m = kByteAt[0][u[i]] & kByteAt[1][u[i + 1]] & kByteAt[2][u[i + 2]];
    for (; m != 0; m &= m - 1) {
      if (StartsWithLower(ua.substr(i), kNeedles[std::countr_zero(m)])) return true;
    }
  }
  return false;
}

bool IsPrefetch(std::string_view sec_purpose, std::string_view purpose) {
  return StartsWithLower(sec_purpose, "prefetch") || StartsWithLower(purpose, "prefetch");
}

}  // namespace refgate
