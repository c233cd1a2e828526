// ReferrerStats over rollup rows written straight into a StateDb.
#include "rollup/stats.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "rollup/rows.h"
#include "tests/rollup/visitors.h"
#include "tests/util/scratch_dir.h"
#include "util/time.h"

namespace refgate::rollup {
namespace {
namespace json = boost::json;

constexpr int64_t kNov21 = 1795219200;  // 2026-11-21T00:00:00Z
constexpr int64_t kNov22 = kNov21 + kSecondsPerDay;
constexpr int64_t kNov23 = kNov22 + kSecondsPerDay;
constexpr int64_t kNov24 = kNov23 + kSecondsPerDay;

class StatsTest : public testing::Test {
 protected:
  ScratchDir dir_;  // declared first: removed only after the database is closed
  void SetUp() override { ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok()); }

  void PutDay(const std::string& date, const std::string& ref, const std::string& code,
              uint64_t clicks, std::initializer_list<std::string_view> visitors,
              uint64_t bot_clicks = 0, uint64_t new_visitors = 0, uint64_t conversions = 0,
              uint64_t revenue = 0) {
    DayCodeRow r;
    r.clicks = clicks;
    r.bot_clicks = bot_clicks;
    r.new_visitors = new_visitors;
    r.conversions = conversions;
    r.revenue_minor = revenue;
    r.visitors = Visitors(visitors);
    std::string v;
    Encode(r, &v);
    ASSERT_TRUE(db_->Commit({{DayCodeKey(date, ref, code), v}}).ok());
  }
  void PutChannel(const std::string& date, const std::string& ref, const std::string& code,
                  const std::string& src, const std::string& med, const std::string& camp,
                  uint64_t clicks, std::initializer_list<std::string_view> visitors) {
    ChannelRow r;
    r.clicks = clicks;
    r.visitors = Visitors(visitors);
    std::string v;
    Encode(r, &v);
    ASSERT_TRUE(db_->Commit({{ChannelKey(date, ref, code, src, med, camp), v}}).ok());
  }
  json::object Stats(std::string_view ref, int64_t from, int64_t to) {
    json::object o;
    Status s = ReferrerStats(db_.get(), ref, from, to, &o);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return o;
  }
  static uint64_t U(const json::value& v) { return v.to_number<uint64_t>(); }

  std::unique_ptr<StateDb> db_;
};

TEST_F(StatsTest, NoDatabaseGivesZeroCountsAndEmptyLists) {
  json::object o;
  ASSERT_TRUE(ReferrerStats(nullptr, "cust_1", kNov21, kNov23, &o).ok());
  EXPECT_EQ(o.at("referrer_id").as_string(), "cust_1");
  EXPECT_EQ(o.at("from").as_string(), "2026-11-21");
  EXPECT_EQ(o.at("to").as_string(), "2026-11-23");
  for (const char* k : {"clicks", "unique_visitors", "new_visitors", "bot_clicks", "conversions",
                        "revenue_minor"}) {
    EXPECT_EQ(U(o.at(k)), 0u) << k;
  }
  EXPECT_TRUE(o.at("by_day").as_array().empty());
  EXPECT_TRUE(o.at("by_code").as_array().empty());
  EXPECT_TRUE(o.at("by_channel").as_array().empty());
}

TEST_F(StatsTest, AnEmptyDatabaseGivesTheSameAsNone) {
  json::object none;
  ASSERT_TRUE(ReferrerStats(nullptr, "cust_1", kNov21, kNov23, &none).ok());
  EXPECT_EQ(json::serialize(Stats("cust_1", kNov21, kNov23)), json::serialize(none));
}

TEST_F(StatsTest, TheRangeIncludesBothEndsAndNothingOutside) {
  PutDay("2026-11-20", "A", "a1", 100, {"x"});
  PutDay("2026-11-21", "A", "a1", 1, {"v1"});
  PutDay("2026-11-23", "A", "a1", 2, {"v2"});
  PutDay("2026-11-24", "A", "a1", 100, {"y"});
  json::object o = Stats("A", kNov21, kNov23);
  EXPECT_EQ(U(o.at("clicks")), 3u);
  const auto& days = o.at("by_day").as_array();
  ASSERT_EQ(days.size(), 2u);  // the 22nd had nothing and is left out
  EXPECT_EQ(days[0].at("date").as_string(), "2026-11-21");
  EXPECT_EQ(U(days[0].at("clicks")), 1u);
  EXPECT_EQ(days[1].at("date").as_string(), "2026-11-23");
  EXPECT_EQ(U(days[1].at("clicks")), 2u);
}

TEST_F(StatsTest, ASingleDayRange) {
  PutDay("2026-11-21", "A", "a1", 1, {"v1"});
  PutDay("2026-11-22", "A", "a1", 2, {"v2"});
  json::object o = Stats("A", kNov22, kNov22);
  EXPECT_EQ(U(o.at("clicks")), 2u);
  ASSERT_EQ(o.at("by_day").as_array().size(), 1u);
  EXPECT_EQ(o.at("from").as_string(), "2026-11-22");
  EXPECT_EQ(o.at("to").as_string(), "2026-11-22");
}

TEST_F(StatsTest, FromAfterToCountsNothing) {
  PutDay("2026-11-22", "A", "a1", 2, {"v2"});
  json::object o = Stats("A", kNov23, kNov21);
  EXPECT_EQ(U(o.at("clicks")), 0u);
  EXPECT_TRUE(o.at("by_day").as_array().empty());
  EXPECT_TRUE(o.at("by_code").as_array().empty());
}

TEST_F(StatsTest, ADayWithOnlyBotClicksIsListed) {
  PutDay("2026-11-22", "A", "a1", 0, {}, /*bot_clicks=*/4);
  json::object o = Stats("A", kNov21, kNov23);
  const auto& days = o.at("by_day").as_array();
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(U(days[0].at("bot_clicks")), 4u);
  EXPECT_EQ(U(days[0].at("clicks")), 0u);
  EXPECT_EQ(U(o.at("bot_clicks")), 4u);
}

TEST_F(StatsTest, EveryCountIsSummedOverDaysAndCodes) {
  PutDay("2026-11-21", "A", "a1", 3, {"v1", "v2"}, 1, 2, 1, 500);
  PutDay("2026-11-21", "A", "a2", 1, {"v3"}, 0, 1, 0, 0);
  PutDay("2026-11-22", "A", "a1", 2, {"v1"}, 5, 0, 2, 250);
  json::object o = Stats("A", kNov21, kNov22);
  EXPECT_EQ(U(o.at("clicks")), 6u);
  EXPECT_EQ(U(o.at("bot_clicks")), 6u);
  EXPECT_EQ(U(o.at("new_visitors")), 3u);
  EXPECT_EQ(U(o.at("conversions")), 3u);
  EXPECT_EQ(U(o.at("revenue_minor")), 750u);
  const auto& day1 = o.at("by_day").as_array()[0];
  EXPECT_EQ(U(day1.at("clicks")), 4u);
  EXPECT_EQ(U(day1.at("unique_visitors")), 3u);
  EXPECT_EQ(U(day1.at("revenue_minor")), 500u);
}

TEST_F(StatsTest, UniqueVisitorsAreTheUnionNotTheSum) {
  PutDay("2026-11-21", "A", "a1", 2, {"v1", "v2"});
  PutDay("2026-11-21", "A", "a2", 1, {"v2"});
  PutDay("2026-11-22", "A", "a1", 2, {"v1", "v3"});
  json::object o = Stats("A", kNov21, kNov22);
  EXPECT_EQ(U(o.at("unique_visitors")), 3u);
  const auto& days = o.at("by_day").as_array();
  EXPECT_EQ(U(days[0].at("unique_visitors")), 2u);
  EXPECT_EQ(U(days[1].at("unique_visitors")), 2u);
  const auto& codes = o.at("by_code").as_array();
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_EQ(codes[0].at("code").as_string(), "a1");
  EXPECT_EQ(U(codes[0].at("clicks")), 4u);
  EXPECT_EQ(U(codes[0].at("unique_visitors")), 3u);
  EXPECT_EQ(codes[1].at("code").as_string(), "a2");
  EXPECT_EQ(U(codes[1].at("unique_visitors")), 1u);
}

TEST_F(StatsTest, OtherReferrersAreNotCountedEvenWithAPrefixOfTheId) {
  PutDay("2026-11-22", "A", "a1", 1, {"v1"});
  PutDay("2026-11-22", "AB", "a1", 10, {"v2"});
  PutDay("2026-11-22", "", "a1", 100, {"v3"});
  PutChannel("2026-11-22", "AB", "a1", "s", "m", "c", 10, {"v2"});
  json::object o = Stats("A", kNov22, kNov22);
  EXPECT_EQ(U(o.at("clicks")), 1u);
  EXPECT_TRUE(o.at("by_channel").as_array().empty());
  EXPECT_EQ(U(Stats("AB", kNov22, kNov22).at("clicks")), 10u);
}

TEST_F(StatsTest, ChannelsAreMergedOverCodesAndDaysAndSortedByClicks) {
  PutDay("2026-11-21", "A", "a1", 1, {"v1"});
  PutChannel("2026-11-21", "A", "a1", "news", "email", "spring", 1, {"v1"});
  PutChannel("2026-11-21", "A", "a2", "social", "post", "x", 2, {"v2", "v3"});
  PutChannel("2026-11-22", "A", "a1", "news", "email", "spring", 3, {"v1", "v4"});
  PutChannel("2026-11-22", "A", "a1", "ads", "cpc", "", 2, {"v5"});
  json::object o = Stats("A", kNov21, kNov22);
  const auto& ch = o.at("by_channel").as_array();
  ASSERT_EQ(ch.size(), 3u);
  EXPECT_EQ(ch[0].at("utm_source").as_string(), "news");
  EXPECT_EQ(ch[0].at("utm_medium").as_string(), "email");
  EXPECT_EQ(ch[0].at("utm_campaign").as_string(), "spring");
  EXPECT_EQ(U(ch[0].at("clicks")), 4u);
  EXPECT_EQ(U(ch[0].at("unique_visitors")), 2u);
  // A tie keeps the order of (source, medium, campaign).
  EXPECT_EQ(ch[1].at("utm_source").as_string(), "ads");
  EXPECT_EQ(U(ch[1].at("clicks")), 2u);
  EXPECT_EQ(ch[2].at("utm_source").as_string(), "social");
  EXPECT_EQ(U(ch[2].at("clicks")), 2u);
  EXPECT_EQ(U(ch[2].at("unique_visitors")), 2u);
}

TEST_F(StatsTest, ADamagedDayRowIsCorruption) {
  PutDay("2026-11-21", "A", "a1", 1, {"v1"});
  ASSERT_TRUE(db_->Commit({{DayCodeKey("2026-11-22", "A", "a1"), "\xff"}}).ok());
  json::object o;
  EXPECT_TRUE(ReferrerStats(db_.get(), "A", kNov21, kNov22, &o).IsCorruption());
  // Outside the range it is not read.
  EXPECT_TRUE(ReferrerStats(db_.get(), "A", kNov21, kNov21, &o).ok());
}

TEST_F(StatsTest, ADamagedChannelRowIsCorruption) {
  ASSERT_TRUE(db_->Commit({{ChannelKey("2026-11-22", "A", "a1", "s", "", ""), "\xff"}}).ok());
  json::object o;
  EXPECT_TRUE(ReferrerStats(db_.get(), "A", kNov22, kNov24, &o).IsCorruption());
}

}  // namespace
}  // namespace refgate::rollup
