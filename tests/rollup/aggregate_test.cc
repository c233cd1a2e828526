// Aggregate: one compaction run's counts, read back from the state it writes.
#include "rollup/aggregate.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/util/scratch_dir.h"

namespace refgate::rollup {
namespace {

constexpr int64_t kMidnight = 1795305600'000000;  // 2026-11-22T00:00:00Z
constexpr int64_t kNoon = kMidnight + 12 * 3600'000000LL;

ClickRecord Click(std::string ref, std::string code, std::string visitor, int64_t ts_us,
                  bool is_new = false, std::string utm_source = "") {
  ClickRecord c;
  c.ts_us = ts_us;
  c.type = ClickType::kClick;
  c.referrer_id = std::move(ref);
  c.code = std::move(code);
  c.visitor_id = std::move(visitor);
  c.new_visitor = is_new;
  c.utm[0] = std::move(utm_source);
  c.click_id = "c" + std::to_string(ts_us);
  c.method = "GET";
  c.status = 302;
  return c;
}

ClickRecord Bot(std::string ref, std::string code, int64_t ts_us) {
  ClickRecord c = Click(std::move(ref), std::move(code), "", ts_us);
  c.bot = true;
  return c;
}

class AggregateTest : public testing::Test {
 protected:
  ScratchDir dir_;  // declared first: removed only after the database is closed
  void SetUp() override { ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok()); }

  // Adds every record in a fresh Aggregate and commits its writes.
  std::set<std::string> Run(const std::vector<ClickRecord>& recs, uint64_t* orphans = nullptr) {
    Aggregate agg(db_.get());
    for (const auto& r : recs) {
      Status s = agg.Add(r);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    std::vector<StateDb::Write> writes;
    agg.Writes(&writes);
    EXPECT_TRUE(db_->Commit(writes).ok());
    if (orphans) *orphans = agg.orphans();
    return agg.dates();
  }

  template <typename Row>
  Row Read(const std::string& key) {
    Row row;
    std::string value;
    Status s = db_->Get(key, &value);
    EXPECT_TRUE(s.ok()) << key << ": " << s.ToString();
    EXPECT_TRUE(Decode(value, &row)) << key;
    return row;
  }
  bool Has(const std::string& key) {
    std::string value;
    return db_->Get(key, &value).ok();
  }
  DayCodeRow Day(const std::string& date, const std::string& ref, const std::string& code) {
    return Read<DayCodeRow>(DayCodeKey(date, ref, code));
  }
  ReferrerRow Ref(const std::string& ref) { return Read<ReferrerRow>(ReferrerKey(ref)); }
  ChannelRow Channel(const std::string& date, const std::string& ref, const std::string& code,
                     const std::string& src) {
    return Read<ChannelRow>(ChannelKey(date, ref, code, src, "", ""));
  }
  // Every key under `prefix`.
  std::vector<std::string> Keys(std::string_view prefix) {
    std::vector<std::string> keys;
    EXPECT_TRUE(db_->Scan(prefix,
                          [&](std::string_view k, std::string_view) {
                            keys.emplace_back(k);
                            return true;
                          })
                    .ok());
    return keys;
  }

  std::unique_ptr<StateDb> db_;
};

TEST_F(AggregateTest, OrphansCountOnlyInTheOrphanTotal) {
  ClickRecord orphan = Click("", "nosuch", "v1", kNoon);
  orphan.type = ClickType::kOrphan;
  Aggregate agg(db_.get());
  ASSERT_TRUE(agg.Add(orphan).ok());
  ASSERT_TRUE(agg.Add(orphan).ok());
  EXPECT_EQ(agg.orphans(), 2u);
  EXPECT_TRUE(agg.dates().empty());
  std::vector<StateDb::Write> writes;
  agg.Writes(&writes);
  EXPECT_TRUE(writes.empty());
}

TEST_F(AggregateTest, EmptyRunWritesNothing) {
  Aggregate agg(db_.get());
  std::vector<StateDb::Write> writes;
  agg.Writes(&writes);
  EXPECT_TRUE(writes.empty());
  EXPECT_EQ(agg.orphans(), 0u);
  EXPECT_TRUE(agg.dates().empty());
}

TEST_F(AggregateTest, ClicksCountEachVisitorOncePerRow) {
  Run({Click("A", "a1", "v1", kNoon, true), Click("A", "a1", "v1", kNoon + 1),
       Click("A", "a1", "v2", kNoon + 2, true)});
  DayCodeRow day = Day("2026-11-22", "A", "a1");
  EXPECT_EQ(day.clicks, 3u);
  EXPECT_EQ(day.new_visitors, 2u);
  EXPECT_EQ(day.visitors.Count(), 2u);
  EXPECT_EQ(day.bot_clicks, 0u);
  EXPECT_EQ(day.channel_rows, 1u);  // all three came without UTM: one channel
  ReferrerRow ref = Ref("A");
  EXPECT_EQ(ref.clicks, 3u);
  EXPECT_EQ(ref.visitors.Count(), 2u);
  EXPECT_EQ(ref.codes, 1u);
  ChannelRow ch = Channel("2026-11-22", "A", "a1", "");
  EXPECT_EQ(ch.clicks, 3u);
  EXPECT_EQ(ch.visitors.Count(), 2u);
}

TEST_F(AggregateTest, BotsCountInBotClicksOnly) {
  Run({Bot("A", "a1", kNoon), Bot("A", "a1", kNoon + 1)});
  DayCodeRow day = Day("2026-11-22", "A", "a1");
  EXPECT_EQ(day.bot_clicks, 2u);
  EXPECT_EQ(day.clicks, 0u);
  EXPECT_EQ(day.visitors.Count(), 0u);
  EXPECT_EQ(day.channel_rows, 0u);
  ReferrerRow ref = Ref("A");
  EXPECT_EQ(ref.bot_clicks, 2u);
  EXPECT_EQ(ref.clicks, 0u);
  EXPECT_EQ(ref.first_click_us, 0);  // a bot is no click
  EXPECT_EQ(ref.last_click_us, 0);
  EXPECT_EQ(ref.codes, 1u);  // but its code was seen
  EXPECT_TRUE(Keys(ChannelPrefix("2026-11-22")).empty());
}

TEST_F(AggregateTest, DaysSplitAtUtcMidnight) {
  std::set<std::string> dates =
      Run({Click("A", "a1", "v1", kMidnight - 1), Click("A", "a1", "v1", kMidnight)});
  EXPECT_EQ(dates, (std::set<std::string>{"2026-11-21", "2026-11-22"}));
  EXPECT_EQ(Day("2026-11-21", "A", "a1").clicks, 1u);
  EXPECT_EQ(Day("2026-11-22", "A", "a1").clicks, 1u);
}

TEST_F(AggregateTest, AlternatingDaysEachKeepTheirOwnCounts) {
  // The date of the last record is cached; going back to a day must not
  // count into the other one.
  std::set<std::string> dates =
      Run({Click("A", "a1", "v1", kMidnight - 1), Click("A", "a1", "v1", kMidnight),
           Click("A", "a1", "v1", kMidnight - 2), Click("A", "a1", "v1", kMidnight - 3)});
  EXPECT_EQ(dates, (std::set<std::string>{"2026-11-21", "2026-11-22"}));
  EXPECT_EQ(Day("2026-11-21", "A", "a1").clicks, 3u);
  EXPECT_EQ(Day("2026-11-22", "A", "a1").clicks, 1u);
}

TEST_F(AggregateTest, TimesBeforeTheEpochFallOnTheDayBefore) {
  std::set<std::string> dates =
      Run({Click("A", "a1", "v1", -1), Click("A", "a1", "v1", -86400'000000LL),
           Click("A", "a1", "v1", -86400'000001LL), Click("A", "a1", "v1", 0)});
  EXPECT_EQ(dates, (std::set<std::string>{"1969-12-30", "1969-12-31", "1970-01-01"}));
  EXPECT_EQ(Day("1969-12-31", "A", "a1").clicks, 2u);
  EXPECT_EQ(Day("1969-12-30", "A", "a1").clicks, 1u);
  EXPECT_EQ(Day("1970-01-01", "A", "a1").clicks, 1u);
}

TEST_F(AggregateTest, FirstAndLastClickAreTheExtremesWhateverTheOrder) {
  Run({Click("A", "a1", "v1", kNoon + 5), Click("A", "a1", "v1", kNoon + 3),
       Click("A", "a1", "v1", kNoon + 9), Click("A", "a1", "v1", kNoon + 4)});
  ReferrerRow ref = Ref("A");
  EXPECT_EQ(ref.first_click_us, kNoon + 3);
  EXPECT_EQ(ref.last_click_us, kNoon + 9);
  // A later run with an earlier click moves only the first.
  Run({Click("A", "a1", "v1", kNoon + 1)});
  ref = Ref("A");
  EXPECT_EQ(ref.first_click_us, kNoon + 1);
  EXPECT_EQ(ref.last_click_us, kNoon + 9);
}

TEST_F(AggregateTest, LaterRunsAddToTheRowsEarlierRunsKept) {
  Run({Click("A", "a1", "v1", kNoon, true), Click("A", "a1", "v2", kNoon + 1, true)});
  Run({Click("A", "a1", "v2", kNoon + 2), Click("A", "a1", "v3", kNoon + 3, true),
       Bot("A", "a1", kNoon + 4)});
  DayCodeRow day = Day("2026-11-22", "A", "a1");
  EXPECT_EQ(day.clicks, 4u);
  EXPECT_EQ(day.new_visitors, 3u);
  EXPECT_EQ(day.visitors.Count(), 3u);  // v2 came in both runs
  EXPECT_EQ(day.bot_clicks, 1u);
  EXPECT_EQ(day.channel_rows, 1u);  // the same channel in both runs
  ReferrerRow ref = Ref("A");
  EXPECT_EQ(ref.clicks, 4u);
  EXPECT_EQ(ref.visitors.Count(), 3u);
  EXPECT_EQ(Channel("2026-11-22", "A", "a1", "").clicks, 4u);
}

TEST_F(AggregateTest, EachCodeCountsOnceTowardsItsReferrerAcrossRunsAndDays) {
  Run({Click("A", "a1", "v1", kNoon), Click("A", "a1", "v1", kNoon + 1),
       Click("A", "a1", "v1", kNoon + 86400'000000LL)});
  EXPECT_EQ(Ref("A").codes, 1u);
  Run({Click("A", "a1", "v1", kNoon + 2), Click("A", "a2", "v1", kNoon + 3)});
  EXPECT_EQ(Ref("A").codes, 2u);
  Run({Click("A", "a2", "v1", kNoon + 4)});
  EXPECT_EQ(Ref("A").codes, 2u);
  // The same code under another referrer is that referrer's code.
  Run({Click("B", "a1", "v1", kNoon + 5)});
  EXPECT_EQ(Ref("B").codes, 1u);
  EXPECT_EQ(Ref("A").codes, 2u);
}

TEST_F(AggregateTest, ReferrersAndCodesAreKeptApart) {
  // "A"+"Ba" and "AB"+"a" would meet if keys were plain concatenations.
  Run({Click("A", "Ba", "v1", kNoon), Click("AB", "a", "v2", kNoon),
       Click("AB", "a", "v3", kNoon)});
  EXPECT_EQ(Day("2026-11-22", "A", "Ba").clicks, 1u);
  EXPECT_EQ(Day("2026-11-22", "AB", "a").clicks, 2u);
  EXPECT_EQ(Ref("A").clicks, 1u);
  EXPECT_EQ(Ref("AB").clicks, 2u);
}

TEST_F(AggregateTest, WritesEachKeyOnce) {
  Aggregate agg(db_.get());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        agg.Add(Click("A", i % 2 ? "a1" : "a2", "v", kNoon + i, false, i % 3 ? "s1" : "s2")).ok());
  }
  std::vector<StateDb::Write> writes;
  agg.Writes(&writes);
  std::map<std::string, int> seen;
  for (const auto& w : writes) {
    EXPECT_FALSE(w.erase);
    ++seen[w.key];
  }
  for (const auto& [k, n] : seen) EXPECT_EQ(n, 1) << k;
  // 2 day rows, 4 channel rows, 1 referrer row, 2 member keys.
  EXPECT_EQ(writes.size(), 9u);
}

TEST_F(AggregateTest, ChannelsPastTheLimitFoldIntoOther) {
  std::vector<ClickRecord> recs;
  for (size_t i = 0; i < kMaxChannelRows; ++i) {
    recs.push_back(Click("A", "a1", "v1", kNoon, false, "s" + std::to_string(i)));
  }
  recs.push_back(Click("A", "a1", "v2", kNoon, false, "late1"));
  recs.push_back(Click("A", "a1", "v3", kNoon, false, "late2"));
  recs.push_back(Click("A", "a1", "v4", kNoon, false, "s0"));  // already a row: counts as itself
  Run(recs);
  DayCodeRow day = Day("2026-11-22", "A", "a1");
  EXPECT_EQ(day.channel_rows, kMaxChannelRows);
  EXPECT_EQ(day.clicks, kMaxChannelRows + 3);
  EXPECT_EQ(Channel("2026-11-22", "A", "a1", "s0").clicks, 2u);
  ChannelRow other = Read<ChannelRow>(ChannelKey("2026-11-22", "A", "a1", kOtherChannel, "", ""));
  EXPECT_EQ(other.clicks, 2u);
  EXPECT_EQ(other.visitors.Count(), 2u);
  EXPECT_FALSE(Has(ChannelKey("2026-11-22", "A", "a1", "late1", "", "")));
  EXPECT_EQ(Keys(ChannelPrefix("2026-11-22")).size(), kMaxChannelRows + 1);
}

TEST_F(AggregateTest, AFullRowFromAnEarlierRunStillCountsItsOwnChannels) {
  std::vector<ClickRecord> recs;
  for (size_t i = 0; i < kMaxChannelRows; ++i) {
    recs.push_back(Click("A", "a1", "v1", kNoon, false, "s" + std::to_string(i)));
  }
  Run(recs);
  Run({Click("A", "a1", "v1", kNoon, false, "s7"), Click("A", "a1", "v1", kNoon, false, "new")});
  EXPECT_EQ(Channel("2026-11-22", "A", "a1", "s7").clicks, 2u);
  EXPECT_FALSE(Has(ChannelKey("2026-11-22", "A", "a1", "new", "", "")));
  EXPECT_EQ(Read<ChannelRow>(ChannelKey("2026-11-22", "A", "a1", kOtherChannel, "", "")).clicks,
            1u);
  EXPECT_EQ(Day("2026-11-22", "A", "a1").channel_rows, kMaxChannelRows);
}

TEST_F(AggregateTest, TheLimitIsPerCodeAndDay) {
  std::vector<ClickRecord> recs;
  for (size_t i = 0; i < kMaxChannelRows; ++i) {
    recs.push_back(Click("A", "a1", "v1", kNoon, false, "s" + std::to_string(i)));
  }
  recs.push_back(Click("A", "a2", "v1", kNoon, false, "extra"));                   // other code
  recs.push_back(Click("A", "a1", "v1", kNoon + 86400'000000LL, false, "extra"));  // other day
  Run(recs);
  EXPECT_EQ(Channel("2026-11-22", "A", "a2", "extra").clicks, 1u);
  EXPECT_EQ(Channel("2026-11-23", "A", "a1", "extra").clicks, 1u);
  EXPECT_FALSE(Has(ChannelKey("2026-11-22", "A", "a1", kOtherChannel, "", "")));
}

TEST_F(AggregateTest, ADamagedRowIsCorruption) {
  ASSERT_TRUE(db_->Commit({{DayCodeKey("2026-11-22", "A", "a1"), "\xff\xff\xff"}}).ok());
  Aggregate agg(db_.get());
  Status s = agg.Add(Click("A", "a1", "v1", kNoon));
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // Other rows are unaffected.
  EXPECT_TRUE(agg.Add(Click("A", "a2", "v1", kNoon)).ok());
}

TEST_F(AggregateTest, ADamagedReferrerRowIsCorruption) {
  ASSERT_TRUE(db_->Commit({{ReferrerKey("A"), "\xff"}}).ok());
  Aggregate agg(db_.get());
  EXPECT_TRUE(agg.Add(Click("A", "a1", "v1", kNoon)).IsCorruption());
}

TEST_F(AggregateTest, ADamagedChannelRowIsCorruption) {
  ASSERT_TRUE(db_->Commit({{ChannelKey("2026-11-22", "A", "a1", "", "", ""), "\xff"}}).ok());
  Aggregate agg(db_.get());
  EXPECT_TRUE(agg.Add(Click("A", "a1", "v1", kNoon)).IsCorruption());
}

}  // namespace
}  // namespace refgate::rollup
