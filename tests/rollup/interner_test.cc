// Interner: stable dense ids, and ranks in the order of the keys built from
// the names (the order the rollup state's keys sort in).
#include "rollup/interner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "util/coding.h"

namespace refgate::rollup {
namespace {

TEST(Interner, IdsAreDenseStableAndNamesStayPut) {
  Interner in;
  EXPECT_EQ(in.Intern("b"), 0u);
  EXPECT_EQ(in.Intern(""), 1u);
  EXPECT_EQ(in.Intern("b"), 0u);
  const std::string big(3 << 20, 'x');  // larger than a chunk
  EXPECT_EQ(in.Intern(big), 2u);
  std::string_view first = in.Name(0);
  for (int i = 0; i < 100000; ++i) in.Intern("name-" + std::to_string(i));
  EXPECT_EQ(in.size(), 100003u);
  EXPECT_EQ(first.data(), in.Name(0).data());
  EXPECT_EQ(in.Name(0), "b");
  EXPECT_EQ(in.Name(1), "");
  EXPECT_EQ(in.Name(2), big);
  EXPECT_EQ(in.Intern("name-99999"), 100002u);
}

// Ranks sort as the encoded names do, lengths of 128 and more (two-byte
// length prefixes) included.
TEST(Interner, TheEmptyNameFirst) {
  Interner in;
  EXPECT_EQ(in.Intern(""), 0u);
  EXPECT_EQ(in.Intern("a"), 1u);
  EXPECT_EQ(in.Intern(""), 0u);
  EXPECT_EQ(in.Name(0), "");
  EXPECT_EQ(in.Name(1), "a");
}

TEST(Interner, KeyRanksFollowTheEncodedOrder) {
  Interner in;
  std::vector<std::string> names = {"b",
                                    "a",
                                    "ab",
                                    "",
                                    std::string(127, 'z'),
                                    std::string(128, 'a'),
                                    std::string(300, 'a'),
                                    std::string(129, 'b'),
                                    "\xff",
                                    std::string(1, '\0')};
  for (const auto& n : names) in.Intern(n);
  for (bool lp : {false, true}) {
    std::vector<std::string> encoded;
    for (const auto& n : names) {
      std::string e;
      if (lp) {
        PutLengthPrefixed(&e, n);
      } else {
        e = n;
      }
      encoded.push_back(e);
    }
    const std::vector<uint32_t> rank = in.KeyRanks(lp);
    for (uint32_t a = 0; a < names.size(); ++a) {
      for (uint32_t b = 0; b < names.size(); ++b) {
        EXPECT_EQ(rank[a] < rank[b], encoded[a] < encoded[b]) << lp << " " << a << " " << b;
      }
    }
  }
}

}  // namespace
}  // namespace refgate::rollup
