// TouchLog: a visitor's clicks are found across runs and buckets, old
// buckets are deleted once the window has passed them, rows of the former
// layout are moved, and a damaged row is corruption.
#include "rollup/touch_log.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "rollup/rows.h"
#include "tests/util/scratch_dir.h"
#include "util/coding.h"

namespace refgate::rollup {
namespace {

constexpr int64_t kDay = 86400'000000;
constexpr int64_t kT0 = 1795305600'000000;  // 2026-11-22T00:00:00Z

class TouchLogTest : public testing::Test {
 protected:
  ScratchDir dir_;  // declared first: removed only after the database is closed
  void SetUp() override { ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok()); }

  // One run's touches, committed with a checkpoint moved past them (as a
  // compaction run commits), with the pruning horizon given.
  void Run(const std::vector<std::tuple<std::string, int64_t, std::string>>& clicks,
           int64_t horizon = INT64_MIN) {
    TouchLog log(db_.get(), &codes_);
    for (const auto& [visitor, ts, code] : clicks) {
      log.Add(visitor, ts, "id" + std::to_string(ts), codes_.Intern(code));
    }
    ASSERT_TRUE(log.Prepare(horizon).ok());
    StateDb::Batch b;
    log.Writes(&b);
    through_ += clicks.size();
    std::string v;
    PutFixed64(&v, through_);
    b.Put(kThroughKey, v);
    ASSERT_TRUE(db_->Commit(b).ok());
  }
  // The codes of the visitor's touches from..to, by time.
  std::vector<std::string> Of(const std::string& visitor, int64_t from, int64_t to) {
    TouchLog log(db_.get(), &codes_);
    std::vector<Touch> out;
    Status s = log.Of(visitor, from, to, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.ts_us < b.ts_us; });
    std::vector<std::string> codes;
    for (const Touch& t : out) codes.push_back(t.code);
    return codes;
  }
  size_t Keys(std::string_view prefix) {
    size_t n = 0;
    EXPECT_TRUE(db_->Scan(prefix, [&](std::string_view, std::string_view) { return ++n; }).ok());
    return n;
  }

  std::unique_ptr<StateDb> db_;
  Interner codes_;
  uint64_t through_ = 0;
};

TEST_F(TouchLogTest, ClicksOfEarlierRunsAndOfThisOneAreFoundInTheirWindow) {
  Run({{"v1", kT0, "a"}, {"v2", kT0 + 1, "b"}, {"v1", kT0 + 40 * kDay, "c"}});  // two buckets
  Run({{"v1", kT0 + 41 * kDay, "d"}});
  EXPECT_EQ(Of("v1", kT0, kT0 + 50 * kDay), (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(Of("v1", kT0 + 1, kT0 + 40 * kDay), (std::vector<std::string>{"c"}));
  EXPECT_EQ(Of("v2", kT0 - 30 * kDay, kT0 + 1), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(Of("v3", kT0 - 30 * kDay, kT0 + 50 * kDay).empty());
  // This run's touches, before its commit, and the state's together.
  TouchLog log(db_.get(), &codes_);
  log.Add("v1", kT0 + 42 * kDay, "x", codes_.Intern("e"));
  std::vector<Touch> out;
  ASSERT_TRUE(log.Of("v1", kT0 + 41 * kDay, kT0 + 42 * kDay, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].code, "e");
  EXPECT_EQ(out[0].click_id, "x");
}

TEST_F(TouchLogTest, BucketsThatEndedBeforeTheHorizonAreDeletedOnce) {
  Run({{"v1", kT0, "a"}, {"v1", kT0 + 40 * kDay, "b"}});
  const size_t rows = Keys("T");
  ASSERT_EQ(rows, 2u);
  Run({{"v2", kT0 + 80 * kDay, "c"}}, kT0 + 50 * kDay);  // the first bucket has ended
  EXPECT_EQ(Keys("T"), 2u);                              // b's and c's
  EXPECT_TRUE(Of("v1", kT0 - kDay, kT0 + kDay).empty());
  EXPECT_EQ(Of("v1", kT0, kT0 + 45 * kDay), (std::vector<std::string>{"b"}));
  // No new bucket has ended: nothing more is deleted, no second range.
  Run({{"v3", kT0 - 100 * kDay, "old"}, {"v3", kT0 + 81 * kDay, "d"}}, kT0 + 51 * kDay);
  EXPECT_EQ(Keys("T"), 3u);  // the touch older than the horizon is not kept
  EXPECT_EQ(Of("v3", kT0 - 200 * kDay, kT0 + 90 * kDay), (std::vector<std::string>{"d"}));
}

TEST_F(TouchLogTest, RowsOfTheFormerLayoutAreMovedAndStillFound) {
  Touches former;
  former.list = {{kT0, "c1", "a"}, {kT0 + 40 * kDay, "c2", "b"}};
  std::string v;
  Encode(former, &v);
  ASSERT_TRUE(db_->Commit({{TouchesKey("v1"), v}}).ok());
  EXPECT_EQ(Of("v1", kT0, kT0 + 50 * kDay), (std::vector<std::string>{"a", "b"}));
  Run({{"v1", kT0 + 41 * kDay, "c"}});
  EXPECT_EQ(Keys("V"), 0u);
  EXPECT_EQ(Of("v1", kT0, kT0 + 50 * kDay), (std::vector<std::string>{"a", "b", "c"}));
}

// A row holds the sections of every visitor whose hash it has: each finds
// only its own. Times before the epoch fall in buckets of their own.
TEST_F(TouchLogTest, ARowSharedByTwoVisitorsAndTimesBeforeTheEpoch) {
  Run({{"v1", kT0, "a"}, {"v1", -kDay, "neg"}});
  std::string key, row;
  ASSERT_TRUE(db_->Scan("T",
                        [&](std::string_view k, std::string_view v) {
                          if (row.empty() || k > key) key = k, row = v;  // the newer bucket's
                          return true;
                        })
                  .ok());
  std::string other = row;  // v1's section, renamed: a visitor whose hash is v1's
  other[2] = '9';
  ASSERT_TRUE(db_->Commit({{key, other + row + other}}).ok());
  EXPECT_EQ(Of("v1", kT0 - kDay, kT0 + kDay), (std::vector<std::string>{"a"}));  // not v9's
  EXPECT_EQ(Of("v1", -2 * kDay, 0), (std::vector<std::string>{"neg"}));
  EXPECT_TRUE(Of("v1", INT64_MIN, INT64_MIN + kDay).empty());  // no overflow at the edge
}

// Rows streamed into a Sorted (as a compaction commits them) are the
// batch's, bucket after bucket: a visitor's touches in three buckets, out
// of time order, one bucket before the horizon, and a second part's.
TEST_F(TouchLogTest, RowsStreamedInKeyOrderAreTheBatchsRows) {
  auto rows = [&](bool stream) {
    ScratchDir dir;
    std::unique_ptr<StateDb> db;
    EXPECT_TRUE(StateDb::Open(dir.path(), false, &db).ok());
    for (int part = 0; part < 2; ++part) {
      TouchLog log(db.get(), &codes_);
      for (int i = 0; i < 3000; ++i) {
        const int64_t bucket = (i + i / 1000 + part) % 4;  // a visitor's 3 of 4; 0: pruned
        log.Add("v" + std::to_string(i % 1000), kT0 + bucket * 33 * kDay + i, "id",
                codes_.Intern("c" + std::to_string(i % 5)));
      }
      EXPECT_TRUE(log.Prepare(kT0 + 33 * kDay).ok());
      StateDb::Batch b;
      std::unique_ptr<StateDb::Sorted> sorted = db->NewSorted();
      log.Writes(&b, stream ? sorted.get() : nullptr);
      EXPECT_EQ(sorted->size(), stream ? 750u * 2 + 250 * 3 : 0u);  // 250 lack bucket 0
      Status s = db->Commit({&b}, sorted.get());
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    std::vector<Touch> v7;  // buckets 3, 0, 1 in the first part, 0, 1, 2 in the second
    EXPECT_TRUE(TouchLog(db.get(), &codes_).Of("v7", kT0, kT0 + 200 * kDay, &v7).ok());
    EXPECT_EQ(v7.size(), 4u);
    std::vector<std::pair<std::string, std::string>> all;
    EXPECT_TRUE(db->Scan("T", [&](std::string_view k, std::string_view v) {
                    all.emplace_back(k, v);
                    return true;
                  }).ok());
    return all;
  };
  const auto batch = rows(false);
  EXPECT_EQ(batch.size(), 3u * 1000);
  EXPECT_EQ(rows(true), batch);
}

TEST_F(TouchLogTest, ADamagedRowIsCorruption) {
  Run({{"v1", kT0, "a"}});
  std::string key;
  ASSERT_TRUE(db_->Scan("T",
                        [&](std::string_view k, std::string_view) {
                          key = k;
                          return false;
                        })
                  .ok());
  ASSERT_TRUE(db_->Commit({{key, "\x05v1"}}).ok());  // a section cut short
  TouchLog log(db_.get(), &codes_);
  std::vector<Touch> out;
  EXPECT_TRUE(log.Of("v1", kT0 - kDay, kT0 + kDay, &out).IsCorruption());
}

// Prepare frees the visitors' index (the largest of a run's maps after
// its touches): what the memory bound counts drops by it, and a look-up
// after it is an error rather than an answer without this run's touches.
TEST_F(TouchLogTest, PrepareFreesTheIndexAndLookUpsAfterItFail) {
  TouchLog log(db_.get(), &codes_);
  const uint32_t code = codes_.Intern("a");
  for (int i = 0; i < 10'000; ++i) log.Add("v" + std::to_string(i), kT0 + i, "id", code);
  std::vector<Touch> out;
  ASSERT_TRUE(log.Of("v7", kT0, kT0 + kDay, &out).ok());
  EXPECT_EQ(out.size(), 1u);
  const size_t before = log.MemoryBytes(), index = log.IndexBytes();
  EXPECT_GE(index, 10'000 * 24u);
  ASSERT_TRUE(log.Prepare(INT64_MIN).ok());
  EXPECT_EQ(log.IndexBytes(), 0u);
  EXPECT_EQ(log.MemoryBytes(), before - index);
  EXPECT_TRUE(log.Of("v7", kT0, kT0 + kDay, &out).IsInvalidArgument());
  StateDb::Batch b;
  log.Writes(&b);  // the rows are still all there
  ASSERT_TRUE(db_->Commit(b).ok());
  EXPECT_EQ(Keys("T"), 10'000u);
}

}  // namespace
}  // namespace refgate::rollup
