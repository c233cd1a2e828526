// StateDb: commits are atomic and survive reopening, scans stay inside their
// prefix in key order, and a read-only view is what was committed at open.
#include "store/state_db.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "tests/util/scratch_dir.h"

namespace refgate {
namespace {

class StateDbTest : public testing::Test {
 protected:
  ScratchDir dir_;  // declared first: removed only after what lives in it is closed
  void SetUp() override { ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok()); }
  void TearDown() override { db_.reset(); }
  std::string GetOr(const StateDb& db, std::string_view key, std::string absent = "<absent>") {
    std::string v;
    Status s = db.Get(key, &v);
    if (s.IsNotFound()) return absent;
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  }
  std::vector<std::string> Keys(std::string_view prefix, size_t stop_after = 1000) {
    std::vector<std::string> keys;
    EXPECT_TRUE(db_->Scan(prefix,
                          [&](std::string_view k, std::string_view) {
                            keys.emplace_back(k);
                            return keys.size() < stop_after;
                          })
                    .ok());
    return keys;
  }

  std::unique_ptr<StateDb> db_;
};

TEST_F(StateDbTest, AbsentKeyIsNotFound) {
  std::string v;
  EXPECT_TRUE(db_->Get("nothing", &v).IsNotFound());
}

TEST_F(StateDbTest, CommitPutsAndErasesTogetherAndSurvivesReopen) {
  ASSERT_TRUE(db_->Commit({{"a", "1"}, {"b", "2"}}).ok());
  ASSERT_TRUE(db_->Commit({{"a", "", true}, {"c", "3"}, {"never", "", true}}).ok());
  db_.reset();
  ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok());
  EXPECT_EQ(GetOr(*db_, "a"), "<absent>");
  EXPECT_EQ(GetOr(*db_, "b"), "2");
  EXPECT_EQ(GetOr(*db_, "c"), "3");
  EXPECT_EQ(GetOr(*db_, "never"), "<absent>");
}

TEST_F(StateDbTest, KeysAndValuesMayHoldNulBytes) {
  std::string key("d\0cust\0code", 11), value("\0\1\0", 3);
  ASSERT_TRUE(db_->Commit({{key, value}}).ok());
  EXPECT_EQ(GetOr(*db_, key), value);
  EXPECT_EQ(GetOr(*db_, std::string("d\0cust", 6)), "<absent>");
  EXPECT_EQ(Keys(std::string("d\0", 2)), std::vector<std::string>{key});
}

TEST_F(StateDbTest, LaterWriteToTheSameKeyInOneCommitWins) {
  // In the order given, as a WriteBatch applies them, however many there are.
  std::vector<StateDb::Write> writes;
  for (int i = 0; i < 200; ++i) {
    writes.push_back({"k", std::to_string(i)});
    writes.push_back({"other" + std::to_string(i % 7), "x"});
  }
  writes.push_back({"gone", "1"});
  writes.push_back({"gone", "", true});
  ASSERT_TRUE(db_->Commit(writes).ok());
  EXPECT_EQ(GetOr(*db_, "k"), "199");
  EXPECT_EQ(GetOr(*db_, "gone"), "<absent>");
}

TEST_F(StateDbTest, ScanVisitsThePrefixInKeyOrderAndStopsWhenAsked) {
  ASSERT_TRUE(
      db_->Commit(
             {{"r/b", ""}, {"r/a", ""}, {"r", ""}, {"q/z", ""}, {"r0", ""}, {"s", ""}, {"r/c", ""}})
          .ok());
  EXPECT_EQ(Keys("r/"), (std::vector<std::string>{"r/a", "r/b", "r/c"}));
  EXPECT_EQ(Keys("r"), (std::vector<std::string>{"r", "r/a", "r/b", "r/c", "r0"}));
  EXPECT_EQ(Keys("r/", 2), (std::vector<std::string>{"r/a", "r/b"}));
  EXPECT_TRUE(Keys("t").empty());
  EXPECT_EQ(Keys("").size(), 7u);
}

TEST_F(StateDbTest, ReadOnlyViewIsWhatWasCommittedAtOpen) {
  ASSERT_TRUE(db_->Commit({{"before", "1"}}).ok());
  std::unique_ptr<StateDb> ro;
  ASSERT_TRUE(StateDb::Open(dir_.path(), true, &ro).ok());
  ASSERT_TRUE(db_->Commit({{"after", "2"}, {"before", "changed"}}).ok());
  EXPECT_EQ(GetOr(*ro, "before"), "1");
  EXPECT_EQ(GetOr(*ro, "after"), "<absent>");
  EXPECT_FALSE(ro->Commit({{"x", "y"}}).ok());
}

TEST_F(StateDbTest, ReadOnlyOpenOfAMissingDatabaseFailsAndCreatesNothing) {
  std::filesystem::path missing = dir_.path() + "-missing";
  std::unique_ptr<StateDb> ro;
  EXPECT_FALSE(StateDb::Open(missing.string(), true, &ro).ok());
  EXPECT_FALSE(ro);
  EXPECT_FALSE(std::filesystem::exists(missing));
}

// Several batches commit as one; of writes to one key the last batch's
// last write wins, whatever order the keys came in.
TEST_F(StateDbTest, BatchesCommitTogetherAndTheLastWriteToAKeyWins) {
  ASSERT_TRUE(db_->Commit({{"gone", "x"}, {"kept", "old"}}).ok());
  StateDb::Batch a, b;
  a.Put("c", "1");
  a.Put("a", "1");  // a second run of ascending keys
  a.Put("kept", "a");
  b.Put("b", "2");
  b.Put("kept", "b");
  b.Delete("gone");
  b.Put("a", "2");
  ASSERT_TRUE(db_->Commit({&a, &b}).ok());
  EXPECT_EQ(GetOr(*db_, "a"), "2");
  EXPECT_EQ(GetOr(*db_, "b"), "2");
  EXPECT_EQ(GetOr(*db_, "c"), "1");
  EXPECT_EQ(GetOr(*db_, "kept"), "b");
  EXPECT_EQ(GetOr(*db_, "gone"), "<absent>");
}

// A commit of kIngestAtWrites writes or more goes in as one table file:
// the same outcome, deletes and repeated keys included, and it survives
// reopening.
TEST_F(StateDbTest, ALargeCommitIsIngestedWithTheSameOutcome) {
  ASSERT_TRUE(db_->Commit({{"k000007", "before"}, {"k000008", "before"}}).ok());
  StateDb::Batch big;
  const int n = static_cast<int>(StateDb::kIngestAtWrites) + 10;
  for (int i = n - 1; i >= 0; --i) {  // descending: one run per write
    char key[16];
    std::snprintf(key, sizeof key, "k%06d", i);
    big.Put(key, std::to_string(i));
  }
  big.Put("k000003", "again");
  big.Delete("k000008");
  ASSERT_TRUE(db_->Commit(big).ok());
  EXPECT_EQ(Keys("k", 100000).size(), static_cast<size_t>(n - 1));
  EXPECT_EQ(GetOr(*db_, "k000003"), "again");
  EXPECT_EQ(GetOr(*db_, "k000007"), "7");
  EXPECT_EQ(GetOr(*db_, "k000008"), "<absent>");
  db_.reset();
  ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok());
  EXPECT_EQ(GetOr(*db_, "k000009"), "9");
  EXPECT_EQ(Keys("k", 100000).size(), static_cast<size_t>(n - 1));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/ingest.sst.tmp"));
}

// A range delete removes what earlier commits wrote in [begin, end), and
// none of its own commit's writes, in a small commit and an ingested one.
TEST_F(StateDbTest, ARangeDeleteCoversEarlierCommitsOnly) {
  for (size_t extra : {size_t{0}, StateDb::kIngestAtWrites}) {
    SCOPED_TRACE(extra);
    ASSERT_TRUE(db_->Commit({{"r1", "old"}, {"r2", "old"}, {"r3", "old"}, {"r4", "old"}}).ok());
    StateDb::Batch b;
    b.Put("r2", "new");  // handed over before the range: still this commit's
    b.DeleteRange("r2", "r4");
    b.Put("r3", "new");
    for (size_t i = 0; i < extra; ++i) b.Put("s" + std::to_string(100000 + i), "");
    ASSERT_TRUE(db_->Commit(b).ok());
    EXPECT_EQ(GetOr(*db_, "r1"), "old");
    EXPECT_EQ(GetOr(*db_, "r2"), "new");
    EXPECT_EQ(GetOr(*db_, "r3"), "new");
    EXPECT_EQ(GetOr(*db_, "r4"), "old");
    ASSERT_TRUE(db_->Commit({{"r2", "", true, false}, {"r3", "", true, false}}).ok());
    StateDb::Batch gone;
    gone.DeleteRange("r", "s");
    ASSERT_TRUE(db_->Commit(gone).ok());
    EXPECT_TRUE(Keys("r").empty());
  }
}

// A merge appends to what the key holds, across commits and within one,
// after a put or a delete of the same commit, small and ingested alike.
TEST_F(StateDbTest, MergesAppendInTheOrderWritten) {
  for (size_t extra : {size_t{0}, StateDb::kIngestAtWrites}) {
    SCOPED_TRACE(extra);
    const std::string p = "m" + std::to_string(extra) + "/";
    StateDb::Batch first;
    first.Merge(p + "a", "1");
    first.Put(p + "b", "old");
    first.Put(p + "c", "old");
    ASSERT_TRUE(db_->Commit(first).ok());
    StateDb::Batch b;
    b.Merge(p + "a", "2");
    b.Merge(p + "a", "3");
    b.Put(p + "b", "new");
    b.Merge(p + "b", "+");
    b.Delete(p + "c");
    b.Merge(p + "c", "x");
    b.Merge(p + "d", "only");
    for (size_t i = 0; i < extra; ++i) b.Put("s" + std::to_string(100000 + i), "");
    ASSERT_TRUE(db_->Commit(b).ok());
    EXPECT_EQ(GetOr(*db_, p + "a"), "123");
    EXPECT_EQ(GetOr(*db_, p + "b"), "new+");
    EXPECT_EQ(GetOr(*db_, p + "c"), "x");
    EXPECT_EQ(GetOr(*db_, p + "d"), "only");
  }
  db_.reset();
  ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok());
  EXPECT_EQ(GetOr(*db_, "m4096/a"), "123");
}

// A large commit with keys on both sides of "a" is written as two table
// files at once and ingested together; a range deletion reaching over the
// split keeps it one file. Either way every write lands.
TEST_F(StateDbTest, ALargeCommitSplitInTwoFilesLandsWhole) {
  ASSERT_TRUE(db_->Commit({{"Bold", "x"}, {"zold", "x"}}).ok());
  db_.reset();  // reopened: flushed to a table file, the memtable empty
  ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok());
  for (bool reach_over : {false, true}) {
    SCOPED_TRACE(reach_over);
    StateDb::Batch big;
    const int n = static_cast<int>(StateDb::kIngestAtWrites);
    for (int i = 0; i < n; ++i) {
      char key[16];
      std::snprintf(key, sizeof key, "%c%06d", reach_over ? 'C' : 'A', i);
      big.Put(key, "upper");
      std::snprintf(key, sizeof key, "%c%06d", reach_over ? 'y' : 'k', i);
      big.Put(key, "lower");
    }
    big.DeleteRange("B", reach_over ? "zz" : "C");
    big.Merge("A000001", "+");  // merged into its put, in the first file
    auto tables = [&] {
      size_t n = 0;
      for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
        n += e.path().extension() == ".sst";
      }
      return n;
    };
    const size_t before = tables();
    ASSERT_TRUE(db_->Commit(big).ok());
    EXPECT_EQ(tables(), before + (reach_over ? 1 : 2));  // no compaction at this size
    EXPECT_EQ(Keys(reach_over ? "C" : "A", 100000).size(), static_cast<size_t>(n));
    EXPECT_EQ(Keys(reach_over ? "y" : "k", 100000).size(), static_cast<size_t>(n));
    EXPECT_EQ(GetOr(*db_, "Bold"), "<absent>");
    EXPECT_EQ(GetOr(*db_, "zold"), reach_over ? "<absent>" : "x");
    EXPECT_EQ(GetOr(*db_, "A000001"), reach_over ? "upper++" : "upper+");
  }
  EXPECT_EQ(Keys("A", 100000).size(), StateDb::kIngestAtWrites);  // not reached by "B".."zz"
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/ingest.sst.tmp"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/ingest-2.sst.tmp"));
}

// A crash after an ingestion linked its file into the database but before
// the temporary name was unlinked leaves that name on a live table file:
// the next ingestion must not write through it.
TEST_F(StateDbTest, AStaleIngestNameOnALiveFileIsNotWrittenThrough) {
  auto big = [](char tag) {
    StateDb::Batch b;
    for (size_t i = 0; i < StateDb::kIngestAtWrites; ++i) {
      b.Put(std::string(1, tag) + std::to_string(100000 + i), "v");
    }
    return b;
  };
  ASSERT_TRUE(db_->Commit(big('a')).ok());
  std::string live;
  for (const auto& f : std::filesystem::directory_iterator(dir_.path())) {
    if (f.path().extension() == ".sst") live = f.path();
  }
  ASSERT_FALSE(live.empty());
  std::filesystem::create_hard_link(live, dir_.path() + "/ingest.sst.tmp");
  ASSERT_TRUE(db_->Commit(big('b')).ok());
  EXPECT_EQ(Keys("a", 100000).size(), StateDb::kIngestAtWrites);
  db_.reset();
  ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok());
  EXPECT_EQ(Keys("a", 100000).size(), StateDb::kIngestAtWrites);
  EXPECT_EQ(Keys("b", 100000).size(), StateDb::kIngestAtWrites);
}

// Sorted puts commit with batches as one: small (through the memtable)
// and large (streamed into a table file of their own, ingested with the
// batches' files), with the same outcome, surviving a reopen.
TEST_F(StateDbTest, SortedPutsCommitWithTheBatches) {
  for (size_t n : {size_t{3}, 3 * StateDb::kIngestAtWrites}) {
    SCOPED_TRACE(n);
    const std::string p = "d" + std::to_string(n) + "/";
    std::unique_ptr<StateDb::Sorted> sorted = db_->NewSorted();
    for (size_t i = 0; i < n; ++i) sorted->Put(p + std::to_string(100000 + i), "s");
    EXPECT_EQ(sorted->size(), n);
    StateDb::Batch upper, lower;
    upper.Put("A" + p, "upper");
    lower.Put("r" + p, "lower");
    ASSERT_TRUE(db_->Commit({&upper, &lower}, sorted.get()).ok());
    EXPECT_EQ(Keys(p, 100000).size(), n);
    EXPECT_EQ(GetOr(*db_, p + "100001"), "s");
    EXPECT_EQ(GetOr(*db_, "A" + p), "upper");
    EXPECT_EQ(GetOr(*db_, "r" + p), "lower");
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/ingest-s0.sst.tmp"));
  db_.reset();
  ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok());
  EXPECT_EQ(Keys("d12288/", 100000).size(), 3 * StateDb::kIngestAtWrites);
}

// Sorted puts of more than a few of the writing thread's chunks are all
// written, in order, each with its own value; one out of order after them
// still fails the commit, and nothing of it is written.
TEST_F(StateDbTest, SortedPutsPastSeveralChunksAreAllWritten) {
  const size_t n = 3 * StateDb::Sorted::kChunkBytes / 4096 + 17;
  auto value = [](size_t i) { return std::string(4096, static_cast<char>('a' + i % 26)); };
  for (bool bad : {true, false}) {
    SCOPED_TRACE(bad);
    std::unique_ptr<StateDb::Sorted> sorted = db_->NewSorted();
    for (size_t i = 0; i < n; ++i) sorted->Put("c" + std::to_string(100000 + i), value(i));
    if (bad) sorted->Put("c0", "before the first");
    StateDb::Batch b;
    b.Put("A", "upper");
    Status s = db_->Commit({&b}, sorted.get());
    if (bad) {
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_TRUE(Keys("c").empty());
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(Keys("c", 2 * n).size(), n);
    for (size_t i : {size_t{0}, n / 2, n - 1}) {
      EXPECT_EQ(GetOr(*db_, "c" + std::to_string(100000 + i)), value(i)) << i;
    }
  }
}

// Sorted puts whose range a batch's writes (or a range deletion) reach
// into, or that come out of order, fail the commit, and nothing of it is
// written; neither is a table file left behind.
TEST_F(StateDbTest, SortedPutsThatOverlapABatchOrComeOutOfOrderFailTheCommit) {
  for (size_t n : {size_t{3}, 2 * StateDb::kIngestAtWrites}) {
    for (int how = 0; how < 3; ++how) {
      SCOPED_TRACE(std::to_string(n) + " " + std::to_string(how));
      std::unique_ptr<StateDb::Sorted> sorted = db_->NewSorted();
      for (size_t i = 0; i < n; ++i) sorted->Put("h" + std::to_string(100000 + i), "s");
      StateDb::Batch b;
      b.Put("A", "upper");
      if (how == 0) b.Put("h100001x", "inside");
      if (how == 1) b.DeleteRange("e", "i");
      if (how == 2) sorted->Put("h1", "before the last");
      Status s = db_->Commit({&b}, sorted.get());
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_EQ(GetOr(*db_, "A"), "<absent>");
      EXPECT_TRUE(Keys("h").empty());
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/ingest-s0.sst.tmp"));
}

// A batch's writes below a Sorted's range and above it (both below "a")
// go to table files on either side of the Sorted's; its merges append to
// what earlier commits wrote.
TEST_F(StateDbTest, SortedWritesBetweenABatchsWritesAndMerges) {
  ASSERT_TRUE(db_->Commit({{"T100001", "old"}}).ok());
  std::unique_ptr<StateDb::Sorted> sorted = db_->NewSorted();
  for (size_t i = 0; i < 2 * StateDb::kIngestAtWrites; ++i) {
    sorted->Merge("T" + std::to_string(100000 + i), "+");
  }
  StateDb::Batch b;
  b.Put("!mark", "below");
  b.Put("V", "above");
  b.DeleteRange("A", "B");
  ASSERT_TRUE(db_->Commit({&b}, sorted.get()).ok());
  EXPECT_EQ(GetOr(*db_, "T100001"), "old+");
  EXPECT_EQ(GetOr(*db_, "T100002"), "+");
  EXPECT_EQ(Keys("T", 100000).size(), 2 * StateDb::kIngestAtWrites);
  EXPECT_EQ(GetOr(*db_, "!mark"), "below");
  EXPECT_EQ(GetOr(*db_, "V"), "above");
  // A range deletion over the Sorted's range fails the commit.
  sorted = db_->NewSorted();
  for (size_t i = 0; i < StateDb::kIngestAtWrites; ++i) sorted->Put("T" + std::to_string(i), "");
  b.DeleteRange("S", "U");
  EXPECT_TRUE(db_->Commit({&b}, sorted.get()).IsInvalidArgument());
}

// Several Sorted commit together when their ranges are apart, and fail
// the commit when they are not.
TEST_F(StateDbTest, SortedPutsOfSeveralWritersCommitTogetherWhenApart) {
  for (bool apart : {false, true}) {
    SCOPED_TRACE(apart);
    std::unique_ptr<StateDb::Sorted> d = db_->NewSorted(), h = db_->NewSorted();
    for (size_t i = 0; i < StateDb::kIngestAtWrites; ++i) {
      d->Put("d" + std::to_string(100000 + i), "day");
      h->Put((apart ? "h" : "d") + std::to_string(100000 + i) + "x", "channel");
    }
    StateDb::Batch b;
    b.Put("A", "upper");
    Status s = db_->Commit({&b}, {d.get(), h.get()});
    if (!apart) {
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_EQ(GetOr(*db_, "A"), "<absent>");
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(Keys("d", 100000).size(), StateDb::kIngestAtWrites);
    EXPECT_EQ(Keys("h", 100000).size(), StateDb::kIngestAtWrites);
    EXPECT_EQ(GetOr(*db_, "A"), "upper");
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/ingest-s1.sst.tmp"));
}

// As with a batch's files, a stale temporary name of the sorted puts'
// file on a live table file is unlinked, not written through.
TEST_F(StateDbTest, AStaleSortedTableNameIsNotWrittenThrough) {
  auto commit = [&](char tag) {
    std::unique_ptr<StateDb::Sorted> sorted = db_->NewSorted();
    for (size_t i = 0; i < StateDb::kIngestAtWrites; ++i) {
      sorted->Put(std::string(1, tag) + std::to_string(100000 + i), "v");
    }
    StateDb::Batch none;
    return db_->Commit({&none}, sorted.get());
  };
  ASSERT_TRUE(commit('a').ok());
  std::string live;
  for (const auto& f : std::filesystem::directory_iterator(dir_.path())) {
    if (f.path().extension() == ".sst") live = f.path();
  }
  ASSERT_FALSE(live.empty());
  std::filesystem::create_hard_link(live, dir_.path() + "/ingest-s0.sst.tmp");
  ASSERT_TRUE(commit('b').ok());
  db_.reset();
  ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok());
  EXPECT_EQ(Keys("a", 100000).size(), StateDb::kIngestAtWrites);
  EXPECT_EQ(Keys("b", 100000).size(), StateDb::kIngestAtWrites);
}

// A crash's leftover name of a Sorted table file goes at the next open.
TEST_F(StateDbTest, OpeningRemovesLeftoverSortedTableNames) {
  const std::string leftover = dir_.path() + "/ingest-s3.sst.tmp";
  std::FILE* f = std::fopen(leftover.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  db_.reset();
  ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok());
  EXPECT_FALSE(std::filesystem::exists(leftover));
}

TEST_F(StateDbTest, HoldsTellsWhetherAnyKeyHasThePrefix) {
  EXPECT_FALSE(db_->Holds("d"));
  ASSERT_TRUE(db_->Commit({{"dx", "1"}}).ok());
  EXPECT_TRUE(db_->Holds("d"));
  EXPECT_FALSE(db_->Holds("e"));
  EXPECT_FALSE(db_->Holds("dy"));
}

}  // namespace
}  // namespace refgate
