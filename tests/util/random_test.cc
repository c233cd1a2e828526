// The CSPRNG helpers: exact lengths, no bytes handed out twice across the
// per-thread pool's refills, base64url and base62 alphabets, no modulo bias.
// (tests/util/time_test.cc holds the first distinctness checks.)
#include "util/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace refgate {
namespace {

TEST(RandomBytes, FillsExactlyTheRequestedBytesAtEverySize) {
  // Sizes around the pool's halves and whole, and far above it.
  for (size_t n : {0, 1, 15, 16, 255, 256, 257, 511, 512, 513, 4096}) {
    std::vector<uint8_t> buf(n + 16, 0xA5);
    RandomBytes(buf.data() + 8, n);
    for (size_t i = 0; i < 8; ++i) {
      ASSERT_EQ(buf[i], 0xA5) << n;
      ASSERT_EQ(buf[n + 8 + i], 0xA5) << n;
    }
    if (n >= 16) {
      // 128 random bits equal to the guard pattern: never in practice.
      EXPECT_FALSE(std::all_of(buf.begin() + 8, buf.end() - 8, [](uint8_t b) { return b == 0xA5; }))
          << n;
    }
  }
}

TEST(RandomBytes, DrawsAcrossPoolRefillsAreNeverZeroedOrRepeated) {
  // 3000 draws of 24 bytes use up the 512-byte pool many times over, at
  // offsets that do not divide it: a reused or cleared slice would show.
  std::set<std::string> seen;
  const std::string zeros(24, '\0');
  for (int i = 0; i < 3000; ++i) {
    std::array<uint8_t, 24> b;
    RandomBytes(b.data(), b.size());
    std::string s(reinterpret_cast<const char*>(b.data()), b.size());
    ASSERT_NE(s, zeros) << i;
    ASSERT_TRUE(seen.insert(s).second) << "repeated draw at " << i;
  }
}

TEST(RandomId, LengthIsTheBase64UrlLengthOfTheBytes) {
  EXPECT_EQ(RandomId(0), "");
  EXPECT_EQ(RandomId(1).size(), 2u);
  EXPECT_EQ(RandomId(3).size(), 4u);
  EXPECT_EQ(RandomId(16).size(), 22u);
  EXPECT_EQ(RandomId(32).size(), 43u);
  for (char c : RandomId(48)) {
    EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
  }
}

TEST(RandomId, ThreadsDrawDistinctIds) {
  constexpr int kThreads = 4, kPerThread = 2000;
  std::vector<std::vector<std::string>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&got, t] {
      for (int i = 0; i < kPerThread; ++i) {
        char buf[kRandomIdChars];
        got[t].emplace_back(RandomIdInto(buf));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& v : got) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
}

TEST(RandomBase62, ZeroLengthIsEmpty) { EXPECT_EQ(RandomBase62(0), ""); }

TEST(RandomBase62, EveryCharacterIsEquallyLikely) {
  // 620,000 characters: 10,000 expected each, standard deviation about 100.
  // Taking a byte modulo 62 without rejection would give the first eight
  // characters about 12,100 each; the bounds are six deviations wide.
  std::string s = RandomBase62(620000);
  ASSERT_EQ(s.size(), 620000u);
  std::map<char, int> counts;
  for (char c : s) ++counts[c];
  ASSERT_EQ(counts.size(), 62u);
  for (auto [c, n] : counts) {
    EXPECT_TRUE(isalnum(static_cast<unsigned char>(c))) << c;
    EXPECT_GT(n, 9400) << c;
    EXPECT_LT(n, 10600) << c;
  }
}

}  // namespace
}  // namespace refgate
