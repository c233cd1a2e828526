#include "rollup/visitor_set.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

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
  }
}

TEST(VisitorSet, RejectsMalformedEncodings) {
  VisitorSet s;
  for (std::string bad : {std::string(""), std::string("\x02"), std::string("\x00\x05", 2),
                          std::string("\x01", 1) + std::string(100, 'x')}) {
    std::string_view in(bad);
    EXPECT_FALSE(s.DecodeFrom(&in));
  }
}

}  // namespace refgate
