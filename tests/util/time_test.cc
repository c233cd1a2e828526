#include "util/time.h"

#include <gtest/gtest.h>

#include "util/random.h"

namespace refgate {

TEST(Time, FormatsUtc) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1795341600), "2026-11-22T10:00:00Z");
  EXPECT_EQ(FormatRfc3339Micros(1795341600123456), "2026-11-22T10:00:00.123456Z");
  EXPECT_EQ(FormatDate(1795341600), "2026-11-22");
}

TEST(Time, ParsesRfc3339WithOffsetsAndFractions) {
  EXPECT_EQ(ParseRfc3339("2026-11-22T10:00:00Z"), 1795341600);
  EXPECT_EQ(ParseRfc3339("2026-11-22T12:00:00.75+02:00"), 1795341600);
  EXPECT_EQ(ParseRfc3339("2026-11-22t05:30:00-04:30"), 1795341600);
}

TEST(Time, RejectsMalformedDateTimes) {
  for (const char* bad :
       {"", "2026-11-22", "2026-11-22T10:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-22T24:00:00Z", "2026-11-22T10:00Z", "2026-11-22T10:00:00.Z",
        "2026-11-22T10:00:00+0200", "2026-11-22 10:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").has_value());
}

TEST(Time, RoundTripsAcrossCenturies) {
  for (int64_t t :
       {int64_t{-86400}, int64_t{951782400}, int64_t{4102444800}, int64_t{1795341599}}) {
    EXPECT_EQ(ParseRfc3339(FormatRfc3339(t)), t) << t;
  }
}

TEST(Random, Base62HasTheRightAlphabetAndLength) {
  std::string s = RandomBase62(1000);
  ASSERT_EQ(s.size(), 1000u);
  for (char c : s) EXPECT_TRUE(isalnum(static_cast<unsigned char>(c))) << c;
}

TEST(Random, IdsAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.insert(RandomId());
  EXPECT_EQ(ids.size(), 10000u);
  EXPECT_EQ(RandomId().size(), 22u);  // 128 bits
}

TEST(Random, IdsWrittenInPlaceAreDistinctBase64Url) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) {
    char buf[kRandomIdChars];
    std::string_view id = RandomIdInto(buf);
    ASSERT_EQ(id.size(), 22u);
    for (char c : id)
      ASSERT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
    ids.emplace(id);
  }
  EXPECT_EQ(ids.size(), 10000u);
}

}  // namespace refgate
