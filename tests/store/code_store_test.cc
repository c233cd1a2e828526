#include "store/code_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "store/code_codec.h"
#include "tests/util/scratch_dir.h"
#include "tests/util/test_code.h"

namespace refgate {

class StoreTest : public testing::Test {
 protected:
  ScratchDir dir_;  // declared first: removed only after what lives in it is closed
  void SetUp() override { ASSERT_TRUE(CodeStore::Open(dir_.path(), 1000, &store_).ok()); }
  void TearDown() override { store_.reset(); }
  static CodeRecord Rec(std::string code, std::string referrer = "r1") {
    return TestCode(std::move(code), std::move(referrer));
  }
  Status Insert1(const CodeRecord& r) {
    std::vector<Status> results;
    Status s = store_->Insert(std::span(&r, 1), &results);
    return s.ok() ? results[0] : s;
  }

  std::unique_ptr<CodeStore> store_;
};

TEST(CodeCodec, RoundTripsEveryField) {
  CodeRecord r;
  r.code = "abc";
  r.referrer_id = "ref";
  r.target_url = "https://example.com/?a=b";
  r.campaign = "c";
  r.utm = {"1", "2", "3", "4", "5"};
  r.redirect_status = 308;
  r.status = CodeStatus::kDisabled;
  r.created_at = -5;
  r.expires_at = 1795341600;
  std::string enc;
  EncodeCodeRecord(r, &enc);
  CodeRecord back;
  ASSERT_TRUE(DecodeCodeRecord(enc, &back).ok());
  EXPECT_EQ(back, r);
}

TEST(CodeCodec, EveryTruncationIsCorruption) {
  CodeRecord r;
  r.code = "abc";
  r.expires_at = 7;
  std::string enc;
  EncodeCodeRecord(r, &enc);
  for (size_t n = 0; n < enc.size(); ++n) {
    CodeRecord back;
    EXPECT_TRUE(DecodeCodeRecord(std::string_view(enc).substr(0, n), &back).IsCorruption()) << n;
  }
}

TEST_F(StoreTest, InsertThenLookupAndGet) {
  ASSERT_TRUE(Insert1(Rec("abc")).ok());
  CodeCache::Entry e;
  ASSERT_TRUE(store_->Lookup("abc", &e).ok());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->referrer_id, "r1");
  ASSERT_TRUE(store_->Lookup("nope", &e).ok());
  EXPECT_FALSE(e);
  CodeRecord got;
  EXPECT_TRUE(store_->Get("abc", &got).ok());
  EXPECT_TRUE(store_->Get("nope", &got).IsNotFound());
}

TEST_F(StoreTest, DuplicatesWithinAndAcrossCallsAreRefused) {
  std::vector<CodeRecord> recs{Rec("aaa"), Rec("bbb"), Rec("aaa")};
  std::vector<Status> results;
  ASSERT_TRUE(store_->Insert(recs, &results).ok());
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].ok());
  EXPECT_TRUE(results[2].IsAlreadyExists());
  EXPECT_TRUE(Insert1(Rec("bbb")).IsAlreadyExists());
}

TEST_F(StoreTest, DeletedCodeIsATombstoneThatBlocksReuse) {
  ASSERT_TRUE(Insert1(Rec("gone")).ok());
  CodeRecord r = Rec("gone");
  r.status = CodeStatus::kDeleted;
  ASSERT_TRUE(store_->Update(r).ok());
  EXPECT_TRUE(Insert1(Rec("gone", "someone_else")).IsAlreadyExists());
  CodeCache::Entry e;
  ASSERT_TRUE(store_->Lookup("gone", &e).ok());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, CodeStatus::kDeleted);
  std::vector<CodeRecord> out;
  bool more;
  ASSERT_TRUE(store_->List("r1", "", 10, &out, &more).ok());
  EXPECT_TRUE(out.empty());
}

TEST_F(StoreTest, UpdateIsVisibleToTheNextLookupEvenAfterACachedMiss) {
  CodeCache::Entry e;
  ASSERT_TRUE(store_->Lookup("late", &e).ok());  // caches "absent"
  EXPECT_FALSE(e);
  ASSERT_TRUE(Insert1(Rec("late")).ok());
  ASSERT_TRUE(store_->Lookup("late", &e).ok());
  ASSERT_TRUE(e);
  CodeRecord r = Rec("late");
  r.target_url = "https://example.com/new";
  ASSERT_TRUE(store_->Update(r).ok());
  ASSERT_TRUE(store_->Lookup("late", &e).ok());
  EXPECT_EQ(e->target_url, "https://example.com/new");
}

TEST_F(StoreTest, UpdateCannotMoveACodeToAnotherReferrer) {
  ASSERT_TRUE(Insert1(Rec("mine")).ok());
  EXPECT_TRUE(store_->Update(Rec("mine", "thief")).IsInvalidArgument());
  EXPECT_TRUE(store_->Update(Rec("never")).IsNotFound());
}

TEST_F(StoreTest, ListPaginatesByReferrerInCodeOrder) {
  std::vector<CodeRecord> recs;
  for (int i = 0; i < 25; ++i) recs.push_back(Rec("code" + std::to_string(100 + i), "alice"));
  recs.push_back(Rec("zzz", "alice_b"));  // a referrer whose id extends alice's
  recs.push_back(Rec("yyy", "bob"));
  std::vector<Status> results;
  ASSERT_TRUE(store_->Insert(recs, &results).ok());
  std::vector<std::string> seen;
  std::string cursor;
  bool more = true;
  int pages = 0;
  while (more) {
    std::vector<CodeRecord> page;
    ASSERT_TRUE(store_->List("alice", cursor, 10, &page, &more).ok());
    for (auto& r : page) seen.push_back(r.code);
    if (!page.empty()) cursor = page.back().code;
    ++pages;
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "code100");
  EXPECT_EQ(seen.back(), "code124");
  std::vector<CodeRecord> all;
  ASSERT_TRUE(store_->List("", "", 1000, &all, &more).ok());
  EXPECT_EQ(all.size(), 27u);
  EXPECT_FALSE(more);
}

TEST_F(StoreTest, SurvivesReopen) {
  ASSERT_TRUE(Insert1(Rec("keep")).ok());
  store_.reset();
  ASSERT_TRUE(CodeStore::Open(dir_.path(), 1000, &store_).ok());
  CodeRecord got;
  EXPECT_TRUE(store_->Get("keep", &got).ok());
}

TEST_F(StoreTest, ConcurrentLookupsSeeEveryWrite) {
  ASSERT_TRUE(Insert1(Rec("hot")).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        CodeCache::Entry e;
        if (!store_->Lookup("hot", &e).ok() || !e) ++bad;
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    CodeRecord r = Rec("hot");
    r.campaign = "v" + std::to_string(i);
    ASSERT_TRUE(store_->Update(r).ok());
    CodeCache::Entry e;
    ASSERT_TRUE(store_->Lookup("hot", &e).ok());
    EXPECT_EQ(e->campaign, r.campaign);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad, 0);
}

TEST_F(StoreTest, ApplyTakesTheClustersRecordsAndRevision) {
  uint64_t applied = 1, rev = 1;
  ASSERT_TRUE(store_->AppliedRevision(&applied).ok());
  EXPECT_EQ(applied, 0u);
  CodeRecord moved = Rec("c1", "r1");
  std::vector<CodeStore::Applied> batch{{moved, 3}, {Rec("c2", "r1"), 4}};
  ASSERT_TRUE(store_->Apply(batch, 5).ok());
  ASSERT_TRUE(store_->AppliedRevision(&applied).ok());
  EXPECT_EQ(applied, 5u);
  ASSERT_TRUE(store_->CodeRevision("c1", &rev).ok());
  EXPECT_EQ(rev, 3u);
  ASSERT_TRUE(store_->CodeRevision("nope", &rev).ok());
  EXPECT_EQ(rev, 0u);
  // Another node moved c1 to r2 and deleted c2: the index follows.
  moved.referrer_id = "r2";
  CodeRecord gone = Rec("c2", "r1");
  gone.status = CodeStatus::kDeleted;
  std::vector<CodeStore::Applied> next{{moved, 6}, {gone, 7}};
  ASSERT_TRUE(store_->Apply(next, 7).ok());
  std::vector<CodeRecord> page;
  bool more = false;
  ASSERT_TRUE(store_->List("r1", "", 10, &page, &more).ok());
  EXPECT_TRUE(page.empty());
  ASSERT_TRUE(store_->List("r2", "", 10, &page, &more).ok());
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].code, "c1");
  CodeCache::Entry e;
  ASSERT_TRUE(store_->Lookup("c2", &e).ok());
  EXPECT_EQ(e->status, CodeStatus::kDeleted);
  // What was applied survives a reopen.
  store_.reset();
  ASSERT_TRUE(CodeStore::Open(dir_.path(), 1000, &store_).ok());
  ASSERT_TRUE(store_->AppliedRevision(&applied).ok());
  EXPECT_EQ(applied, 7u);
  ASSERT_TRUE(store_->Lookup("c1", &e).ok());
  EXPECT_EQ(e->referrer_id, "r2");
}

TEST(CodeCache, EvictsToStayWithinCapacity) {
  CodeCache cache(64);
  for (int i = 0; i < 1000; ++i) cache.Put("k" + std::to_string(i), nullptr);
  EXPECT_LE(cache.Size(), 64u);
  EXPECT_GT(cache.Size(), 0u);
  CodeCache off(0);
  off.Put("k", nullptr);
  CodeCache::Entry e;
  uint64_t gen;
  EXPECT_FALSE(off.Find("k", &e, &gen));
}

TEST(CodeCache, StaleFillIsDropped) {
  CodeCache cache(100);
  CodeCache::Entry e;
  uint64_t gen;
  ASSERT_FALSE(cache.Find("k", &e, &gen));
  auto fresh = std::make_shared<CodeRecord>();
  fresh->campaign = "fresh";
  cache.Put("k", fresh);                                 // a writer wins the race...
  cache.Fill("k", std::make_shared<CodeRecord>(), gen);  // ...the stale reader must not
  ASSERT_TRUE(cache.Find("k", &e, &gen));
  EXPECT_EQ(e->campaign, "fresh");
}

}  // namespace refgate
