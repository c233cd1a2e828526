// Rollup row keys and values: round trips, prefix scans that select exactly
// one day or referrer, and refusal of malformed keys and truncated values.
#include "rollup/rows.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace refgate::rollup {
namespace {

VisitorSet Visitors(int from, int to) {
  VisitorSet s;
  for (int i = from; i < to; ++i) s.Add(VisitorSet::Hash("v" + std::to_string(i)));
  return s;
}

// Referrers where a length prefix is all that tells them apart, and one
// long enough for a two-byte prefix.
const std::vector<std::string> kRefs = {"a", "ab", "abc", "b", std::string(200, 'r')};
const std::vector<std::string> kDays = {"2026-01-01", "2026-01-02", "2026-11-01"};

TEST(RowKeys, DayCodeKeyRoundTrips) {
  const std::string code("c\0de", 4);
  const std::string key = DayCodeKey("2026-03-04", kRefs[4], code);  // the parts view into it
  std::string_view date, ref, parsed_code;
  ASSERT_TRUE(ParseDayCodeKey(key, &date, &ref, &parsed_code));
  EXPECT_EQ(date, "2026-03-04");
  EXPECT_EQ(ref, kRefs[4]);
  EXPECT_EQ(parsed_code, code);
}

TEST(RowKeys, ChannelKeyRoundTripsAnyBytesAndEmptyParts) {
  const std::string src("news\0letter", 11), med = "", camp(300, 'x');
  const std::string key = ChannelKey("2026-03-04", "cust_1", "Ab3", src, med, camp);
  std::string_view date, ref, code, s, m, c;
  ASSERT_TRUE(ParseChannelKey(key, &date, &ref, &code, &s, &m, &c));
  EXPECT_EQ(date, "2026-03-04");
  EXPECT_EQ(ref, "cust_1");
  EXPECT_EQ(code, "Ab3");
  EXPECT_EQ(s, src);
  EXPECT_EQ(m, med);
  EXPECT_EQ(c, camp);
}

TEST(RowKeys, ReferrerKeyRoundTrips) {
  for (const std::string& r : kRefs) {
    const std::string key = ReferrerKey(r);
    std::string_view parsed;
    ASSERT_TRUE(ParseReferrerKey(key, &parsed)) << r;
    EXPECT_EQ(parsed, r);
  }
}

// Every day and referrer prefix against every key: a scan sees a row exactly
// when the row is of that day (and referrer), whatever its other parts.
TEST(RowKeys, PrefixesSelectExactlyTheirDayAndReferrer) {
  for (const std::string& day : kDays) {
    for (const std::string& ref : kRefs) {
      for (const std::string& key_day : kDays) {
        for (const std::string& key_ref : kRefs) {
          const std::string day_key = DayCodeKey(key_day, key_ref, "bc");
          const std::string chan_key = ChannelKey(key_day, key_ref, "bc", "s", "", "c");
          const bool same_day = day == key_day, same_ref = same_day && ref == key_ref;
          EXPECT_EQ(day_key.starts_with(DayPrefix(day)), same_day) << day << " " << key_day;
          EXPECT_EQ(day_key.starts_with(DayRefPrefix(day, ref)), same_ref) << ref << " " << key_ref;
          EXPECT_EQ(chan_key.starts_with(ChannelPrefix(day)), same_day);
          EXPECT_EQ(chan_key.starts_with(ChannelRefPrefix(day, ref)), same_ref);
          // Day rows and channel rows never show up in each other's scans.
          EXPECT_FALSE(chan_key.starts_with(DayPrefix(day)));
          EXPECT_FALSE(day_key.starts_with(ChannelPrefix(day)));
        }
      }
    }
  }
  // Moving bytes between parts makes another key.
  EXPECT_NE(DayCodeKey(kDays[0], "a", "bc"), DayCodeKey(kDays[0], "ab", "c"));
  EXPECT_NE(MemberKey("a", "bc"), MemberKey("ab", "c"));
}

TEST(RowKeys, ParsersRefuseOtherKindsOfKey) {
  std::string_view d, r, c, s, m, k;
  EXPECT_FALSE(ParseDayCodeKey(ChannelKey(kDays[0], "a", "b", "", "", ""), &d, &r, &c));
  EXPECT_FALSE(ParseChannelKey(DayCodeKey(kDays[0], "a", "b"), &d, &r, &c, &s, &m, &k));
  EXPECT_FALSE(ParseReferrerKey(MemberKey("a", "b"), &r));
  EXPECT_FALSE(ParseReferrerKey(std::string(kThroughKey), &r));
  EXPECT_FALSE(ParseDayCodeKey("", &d, &r, &c));
  EXPECT_FALSE(ParseReferrerKey("", &r));
}

TEST(RowKeys, ParsersRefuseTruncatedKeysAndTrailingBytes) {
  std::string_view d, r, c, s, m, k;
  const std::string day = DayCodeKey(kDays[0], "cust_1", "Ab3");
  const std::string chan = ChannelKey(kDays[0], "cust_1", "Ab3", "src", "med", "camp");
  const std::string ref = ReferrerKey("cust_1");
  for (size_t n = 0; n < day.size(); ++n)
    EXPECT_FALSE(ParseDayCodeKey(std::string_view(day).substr(0, n), &d, &r, &c)) << n;
  for (size_t n = 0; n < chan.size(); ++n) {
    EXPECT_FALSE(ParseChannelKey(std::string_view(chan).substr(0, n), &d, &r, &c, &s, &m, &k)) << n;
  }
  for (size_t n = 0; n < ref.size(); ++n)
    EXPECT_FALSE(ParseReferrerKey(std::string_view(ref).substr(0, n), &r)) << n;
  EXPECT_FALSE(ParseDayCodeKey(day + "x", &d, &r, &c));
  EXPECT_FALSE(ParseChannelKey(chan + '\0', &d, &r, &c, &s, &m, &k));
  EXPECT_FALSE(ParseReferrerKey(ref + "x", &r));
}

TEST(RowValues, DayCodeRowRoundTrips) {
  DayCodeRow in{.clicks = 1,
                .new_visitors = 300,
                .bot_clicks = uint64_t{1} << 40,
                .conversions = 4,
                .revenue_minor = std::numeric_limits<uint64_t>::max(),
                .channel_rows = 1000,
                .visitors = Visitors(0, 25)};
  std::string bytes, again;
  Encode(in, &bytes);
  DayCodeRow out{.clicks = 99, .visitors = Visitors(100, 200)};  // overwritten
  ASSERT_TRUE(Decode(bytes, &out));
  EXPECT_EQ(out.clicks, 1u);
  EXPECT_EQ(out.new_visitors, 300u);
  EXPECT_EQ(out.bot_clicks, uint64_t{1} << 40);
  EXPECT_EQ(out.conversions, 4u);
  EXPECT_EQ(out.revenue_minor, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(out.channel_rows, 1000u);
  EXPECT_EQ(out.visitors.Count(), 25u);
  Encode(out, &again);
  EXPECT_EQ(again, bytes);
}

TEST(RowValues, ChannelRowRoundTripsWithASketch) {
  ChannelRow in{.clicks = 123456, .visitors = Visitors(0, 20000)};
  ASSERT_FALSE(in.visitors.exact());
  std::string bytes, again;
  Encode(in, &bytes);
  ChannelRow out;
  ASSERT_TRUE(Decode(bytes, &out));
  EXPECT_EQ(out.clicks, 123456u);
  EXPECT_FALSE(out.visitors.exact());
  EXPECT_EQ(out.visitors.Count(), in.visitors.Count());
  Encode(out, &again);
  EXPECT_EQ(again, bytes);
}

TEST(RowValues, ReferrerRowRoundTripsEveryField) {
  ReferrerRow in{.clicks = 10,
                 .bot_clicks = 2,
                 .conversions = 3,
                 .revenue_minor = 4999,
                 .codes = 7,
                 .first_click_us = 1795341600'000001,
                 .last_click_us = std::numeric_limits<int64_t>::max(),
                 .visitors = Visitors(0, 3)};
  std::string bytes;
  Encode(in, &bytes);
  ReferrerRow out;
  ASSERT_TRUE(Decode(bytes, &out));
  EXPECT_EQ(out.clicks, 10u);
  EXPECT_EQ(out.bot_clicks, 2u);
  EXPECT_EQ(out.conversions, 3u);
  EXPECT_EQ(out.revenue_minor, 4999u);
  EXPECT_EQ(out.codes, 7u);
  EXPECT_EQ(out.first_click_us, 1795341600'000001);
  EXPECT_EQ(out.last_click_us, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(out.visitors.Count(), 3u);
}

TEST(RowValues, TruncatedValuesAreRefused) {
  std::string day, chan, ref;
  Encode(DayCodeRow{.clicks = 1000, .revenue_minor = 1 << 20, .visitors = Visitors(0, 4)}, &day);
  Encode(ChannelRow{.clicks = 5, .visitors = Visitors(0, 2)}, &chan);
  Encode(ReferrerRow{.clicks = 3, .last_click_us = 1795341600'000000, .visitors = Visitors(0, 3)},
         &ref);
  for (size_t n = 0; n < day.size(); ++n) {
    DayCodeRow r;
    EXPECT_FALSE(Decode(std::string_view(day).substr(0, n), &r)) << n;
  }
  for (size_t n = 0; n < chan.size(); ++n) {
    ChannelRow r;
    EXPECT_FALSE(Decode(std::string_view(chan).substr(0, n), &r)) << n;
  }
  for (size_t n = 0; n < ref.size(); ++n) {
    ReferrerRow r;
    EXPECT_FALSE(Decode(std::string_view(ref).substr(0, n), &r)) << n;
  }
  std::string sketch;  // a sketch one register short
  Encode(ChannelRow{.clicks = 1, .visitors = Visitors(0, 20000)}, &sketch);
  ChannelRow r;
  EXPECT_FALSE(Decode(std::string_view(sketch).substr(0, sketch.size() - 1), &r));
}

}  // namespace
}  // namespace refgate::rollup
