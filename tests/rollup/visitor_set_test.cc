#include "rollup/visitor_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

namespace refgate {

VisitorSet Range(int from, int to) {
  VisitorSet s;
  for (int i = from; i < to; ++i) s.Add(VisitorSet::Hash("visitor-" + std::to_string(i)));
  return s;
}

TEST(VisitorSet, ExactUpToTheLimitWithRepeats) {
  VisitorSet s = Range(0, 10000);
  for (int i = 0; i < 10000; i += 3) s.Add(VisitorSet::Hash("visitor-" + std::to_string(i)));
  EXPECT_TRUE(s.exact());
  EXPECT_EQ(s.Count(), 10000u);
}

TEST(VisitorSet, EstimateIsWithinTwoPercentAboveTheLimit) {
  for (int n : {10001, 20000, 100000, 1000000}) {
    VisitorSet s = Range(0, n);
    EXPECT_FALSE(s.exact());
    double err = std::abs(static_cast<double>(s.Count()) - n) / n;
    EXPECT_LT(err, 0.02) << n << " estimated " << s.Count();
  }
}

TEST(VisitorSet, MergesExactAndSketchedSetsAsAUnion) {
  VisitorSet a = Range(0, 6000), b = Range(3000, 9000);
  a.Merge(b);
  EXPECT_TRUE(a.exact());
  EXPECT_EQ(a.Count(), 9000u);
  VisitorSet big = Range(0, 50000), small = Range(40000, 60000);
  big.Merge(small);
  EXPECT_LT(std::abs(static_cast<double>(big.Count()) - 60000) / 60000, 0.02);
  VisitorSet c = Range(0, 100);
  c.Merge(Range(0, 30000));  // an exact set taking in a sketch becomes one
  EXPECT_FALSE(c.exact());
  EXPECT_LT(std::abs(static_cast<double>(c.Count()) - 30000) / 30000, 0.02);
}

TEST(VisitorSet, RoundTripsBothForms) {
  for (int n : {0, 17, 20000}) {
    VisitorSet s = Range(0, n), back;
    std::string enc;
    s.EncodeTo(&enc);
    std::string_view in(enc);
    ASSERT_TRUE(back.DecodeFrom(&in));
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(back.Count(), s.Count());
    EXPECT_EQ(back.exact(), s.exact());
    // Counted without decoding: the same count, the same bytes taken.
    const std::string with_tail = enc + "tail";
    std::string_view counted(with_tail);
    uint64_t count = 0;
    ASSERT_TRUE(VisitorSet::CountFrom(&counted, &count));
    EXPECT_EQ(count, s.Count());
    EXPECT_EQ(counted, "tail");
  }
}

TEST(VisitorSet, RejectsMalformedEncodings) {
  VisitorSet s;
  for (std::string bad : {std::string(""), std::string("\x02"), std::string("\x00\x05", 2),
                          std::string("\x01", 1) + std::string(100, 'x')}) {
    std::string_view in(bad), counted(bad);
    EXPECT_FALSE(s.DecodeFrom(&in));
    uint64_t n;
    EXPECT_FALSE(VisitorSet::CountFrom(&counted, &n));
  }
}

// EncodeUnionTo writes what adding the hashes and encoding would, on both
// sides of the exact limit, from an exact set and from a sketch.
TEST(VisitorSet, EncodeUnionIsAddThenEncode) {
  auto hashes = [](int from, int to) {
    std::vector<uint64_t> v;
    for (int i = from; i < to; ++i) v.push_back(VisitorSet::Hash("visitor-" + std::to_string(i)));
    std::sort(v.begin(), v.end());
    return v;
  };
  for (auto [base_to, more_from, more_to] : {std::tuple{0, 0, 0},
                                             {0, 0, 5},
                                             {10, 5, 20},
                                             {9990, 9980, 10000},
                                             {9990, 9980, 10001},
                                             {20000, 0, 30},
                                             {3, 100, 12000}}) {
    VisitorSet base = Range(0, base_to);
    const std::vector<uint64_t> more = hashes(more_from, more_to);
    std::string got;
    base.EncodeUnionTo(more, &got);
    VisitorSet want = Range(0, base_to);
    for (uint64_t h : more) want.Add(h);
    std::string expected;
    want.EncodeTo(&expected);
    EXPECT_EQ(got, expected) << base_to << " " << more_from << ".." << more_to;
    std::string_view in = got;
    VisitorSet back;
    ASSERT_TRUE(back.DecodeFrom(&in));
    EXPECT_EQ(back.Count(), want.Count());
  }
}

}  // namespace refgate
