// GrowingArray: what was written survives each growth (mremap moves the
// block), and what it counts in memory is its size, not its capacity.
#include "util/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>

namespace refgate {
namespace {

struct Row {
  uint64_t key;
  uint32_t a, b;
};

TEST(GrowingArrayTest, KeepsWhatWasWrittenAcrossGrowths) {
  GrowingArray<Row> rows;
  constexpr uint32_t kRows = 1'000'000;  // 16 MB: grows from one huge page three times
  for (uint32_t i = 0; i < kRows; ++i) rows.push_back({uint64_t{i} * 7, i, ~i});
  ASSERT_EQ(rows.size(), kRows);
  for (uint32_t i = 0; i < kRows; ++i) {
    ASSERT_EQ(rows[i].key, uint64_t{i} * 7) << i;
    ASSERT_EQ(rows[i].a, i);
    ASSERT_EQ(rows[i].b, ~i);
  }
  size_t n = 0;
  for (const Row& r : rows) n += r.a == n;
  EXPECT_EQ(n, kRows);
}

TEST(GrowingArrayTest, AppendsRunsAndNothing) {
  GrowingArray<char> text;
  const std::string_view word = "refgate";
  for (int i = 0; i < 400'000; ++i) text.append(word.data(), word.size());  // 2.8 MB
  text.append(nullptr, 0);
  ASSERT_EQ(text.size(), 400'000 * word.size());
  for (size_t at = 0; at < text.size(); at += word.size()) {
    ASSERT_EQ(std::string_view(text.data() + at, word.size()), word) << at;
  }
}

TEST(GrowingArrayTest, CountsItsSizeInHugePagesAndMovesOut) {
  GrowingArray<uint64_t> a;
  EXPECT_EQ(a.MemoryBytes(), 0u);
  a.push_back(1);
  EXPECT_EQ(a.MemoryBytes(), kHugePage);
  for (uint64_t i = 1; i < kHugePage / 8 + 1; ++i) a.push_back(i + 1);  // one past a page
  EXPECT_EQ(a.MemoryBytes(), 2 * kHugePage);
  GrowingArray<uint64_t> b = std::move(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.size(), kHugePage / 8 + 1);
  EXPECT_EQ(b[kHugePage / 8], kHugePage / 8 + 1);
  b = {};
  EXPECT_EQ(b.MemoryBytes(), 0u);
}

}  // namespace
}  // namespace refgate
