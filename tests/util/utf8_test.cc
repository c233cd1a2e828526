// ValidUtf8: valid text passes unchanged, every invalid sequence (RFC 3629:
// overlongs, surrogates, above U+10FFFF, stray or missing continuation bytes)
// becomes U+FFFD, and the output is always valid.
#include "util/utf8.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace refgate {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Encodes `cp` in `len` bytes, the shortest form or not, with no range check.
std::string Encode(uint32_t cp, int len) {
  std::string s;
  if (len == 1) {
    s.push_back(static_cast<char>(cp));
    return s;
  }
  static constexpr unsigned char kLead[] = {0, 0, 0xC0, 0xE0, 0xF0};
  s.push_back(static_cast<char>(kLead[len] | (cp >> (6 * (len - 1)))));
  for (int k = len - 2; k >= 0; --k)
    s.push_back(static_cast<char>(0x80 | ((cp >> (6 * k)) & 0x3F)));
  return s;
}

int ShortestLength(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// True when `s` is one or more U+FFFD and nothing else.
bool OnlyReplacements(std::string_view s) {
  if (s.empty() || s.size() % kReplacement.size() != 0) return false;
  for (size_t i = 0; i < s.size(); i += kReplacement.size()) {
    if (s.substr(i, kReplacement.size()) != kReplacement) return false;
  }
  return true;
}

TEST(Utf8, EveryScalarValueInShortestFormIsKept) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string s = Encode(cp, ShortestLength(cp));
    ASSERT_EQ(ValidUtf8(s), s) << std::hex << cp;
  }
}

TEST(Utf8, TextWithNulAndMixedWidthsIsUnchanged) {
  std::string s("a\0b \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 z", 17);
  EXPECT_EQ(ValidUtf8(s), s);
  EXPECT_EQ(ValidUtf8(""), "");
}

TEST(Utf8, OverlongFormsAreReplaced) {
  for (uint32_t cp = 0; cp < 0x10000; ++cp) {
    for (int len = ShortestLength(cp) + 1; len <= 4; ++len) {
      ASSERT_TRUE(OnlyReplacements(ValidUtf8(Encode(cp, len)))) << std::hex << cp << " in " << len;
    }
  }
}

TEST(Utf8, SurrogatesAreReplaced) {
  for (uint32_t cp = 0xD800; cp <= 0xDFFF; ++cp) {
    ASSERT_TRUE(OnlyReplacements(ValidUtf8(Encode(cp, 3)))) << std::hex << cp;
  }
}

TEST(Utf8, CodePointsAboveTheMaximumAreReplaced) {
  for (uint32_t cp = 0x110000; cp <= 0x1FFFFF; cp += 0x101) {
    ASSERT_TRUE(OnlyReplacements(ValidUtf8(Encode(cp, 4)))) << std::hex << cp;
  }
  for (int b = 0xF5; b <= 0xFF; ++b) {
    EXPECT_TRUE(OnlyReplacements(ValidUtf8(std::string(1, static_cast<char>(b))))) << b;
  }
}

TEST(Utf8, StrayAndMissingContinuationBytesAreReplacedAndNeighboursKept) {
  for (std::string_view bad : {"\x80", "\xBF\xBF", "\xC3", "\xE2\x82", "\xF0\x9F\x98", "\xC3\xC3",
                               "\xE2\x41", "\xF0\x9F\x41"}) {
    std::string out = ValidUtf8("ab" + std::string(bad) + "cd");
    ASSERT_GE(out.size(), 4u);
    EXPECT_EQ(out.substr(0, 2), "ab");
    EXPECT_EQ(out.substr(out.size() - 2), "cd") << "a valid byte after the damage is kept";
    std::string_view middle = std::string_view(out).substr(2, out.size() - 4);
    // "\xE2\x41": the 'A' that cut the sequence short survives.
    if (middle.ends_with('A')) middle.remove_suffix(1);
    EXPECT_TRUE(OnlyReplacements(middle)) << out;
  }
}

TEST(Utf8, OutputOfRandomBytesIsValidAndStable) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    std::string once = ValidUtf8(s);
    ASSERT_EQ(ValidUtf8(once), once) << "the output is valid UTF-8, so a second pass keeps it";
  }
}

}  // namespace
}  // namespace refgate
