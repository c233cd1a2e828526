// CodeCache: hits, misses, cached absence, the generation check that keeps
// a stale read from overwriting a newer write, and the capacity bound.
#include "store/code_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace refgate {
namespace {

CodeCache::Entry Rec(std::string code, std::string target) {
  auto r = std::make_shared<CodeRecord>();
  r->code = std::move(code);
  r->referrer_id = "ref";
  r->target_url = std::move(target);
  return r;
}

std::string Code(int i) { return "code" + std::to_string(i); }

TEST(CodeCacheTest, AMissSaysSoAndAFillMakesItAHit) {
  CodeCache cache(100);
  CodeCache::Entry e;
  uint64_t gen = 0;
  EXPECT_FALSE(cache.Find("abc", &e, &gen));
  EXPECT_EQ(e, nullptr);
  cache.Fill("abc", Rec("abc", "https://a.example/"), gen);
  ASSERT_TRUE(cache.Find("abc", &e, &gen));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->target_url, "https://a.example/");
  EXPECT_EQ(cache.Size(), 1u);
  // Other codes still miss.
  EXPECT_FALSE(cache.Find("abd", &e, &gen));
}

TEST(CodeCacheTest, ANullEntryCachesAbsence) {
  CodeCache cache(100);
  CodeCache::Entry e = Rec("x", "y");
  uint64_t gen = 0;
  ASSERT_FALSE(cache.Find("nosuch", &e, &gen));
  cache.Fill("nosuch", nullptr, gen);
  e = Rec("x", "y");
  EXPECT_TRUE(cache.Find("nosuch", &e, &gen));
  EXPECT_EQ(e, nullptr);
}

TEST(CodeCacheTest, APutReplacesWhatWasCached) {
  CodeCache cache(100);
  uint64_t gen = 0;
  CodeCache::Entry e;
  ASSERT_FALSE(cache.Find("abc", &e, &gen));
  cache.Fill("abc", nullptr, gen);                       // absent...
  cache.Put("abc", Rec("abc", "https://new.example/"));  // ...then created
  ASSERT_TRUE(cache.Find("abc", &e, &gen));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->target_url, "https://new.example/");
  cache.Put("abc", Rec("abc", "https://newer.example/"));
  ASSERT_TRUE(cache.Find("abc", &e, &gen));
  EXPECT_EQ(e->target_url, "https://newer.example/");
  EXPECT_EQ(cache.Size(), 1u);
}

TEST(CodeCacheTest, AFillFromBeforeAPutIsDropped) {
  CodeCache cache(100);
  uint64_t gen = 0;
  CodeCache::Entry e;
  ASSERT_FALSE(cache.Find("abc", &e, &gen));             // a reader misses and reads the store...
  cache.Put("abc", Rec("abc", "https://new.example/"));  // ...a writer updates it...
  cache.Fill("abc", Rec("abc", "https://old.example/"), gen);  // ...the stale read arrives
  ASSERT_TRUE(cache.Find("abc", &e, &gen));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->target_url, "https://new.example/");
}

TEST(CodeCacheTest, AStaleFillOfAbsenceCannotHideANewCode) {
  CodeCache cache(100);
  uint64_t gen = 0;
  CodeCache::Entry e;
  ASSERT_FALSE(cache.Find("abc", &e, &gen));
  cache.Put("abc", Rec("abc", "https://new.example/"));
  cache.Fill("abc", nullptr, gen);
  ASSERT_TRUE(cache.Find("abc", &e, &gen));
  EXPECT_NE(e, nullptr);
}

TEST(CodeCacheTest, AFillWithAFreshGenerationAfterAPutIsKept) {
  CodeCache cache(100);
  uint64_t gen = 0;
  CodeCache::Entry e;
  cache.Put("other", Rec("other", "t"));
  ASSERT_FALSE(cache.Find("abc", &e, &gen));  // the miss comes after the put
  cache.Fill("abc", Rec("abc", "https://a.example/"), gen);
  EXPECT_TRUE(cache.Find("abc", &e, &gen));
}

TEST(CodeCacheTest, ZeroCapacityCachesNothing) {
  CodeCache cache(0);
  uint64_t gen = 0;
  CodeCache::Entry e;
  ASSERT_FALSE(cache.Find("abc", &e, &gen));
  cache.Fill("abc", Rec("abc", "t"), gen);
  EXPECT_FALSE(cache.Find("abc", &e, &gen));
  cache.Put("abc", Rec("abc", "t"));
  EXPECT_FALSE(cache.Find("abc", &e, &gen));
  EXPECT_EQ(cache.Size(), 0u);
}

TEST(CodeCacheTest, SizeNeverExceedsTheCapacityAndTheNewestEntryStays) {
  // A capacity the 64 shards divide evenly.
  constexpr size_t kCapacity = 128;
  CodeCache cache(kCapacity);
  for (int i = 0; i < 5000; ++i) {
    cache.Put(Code(i), Rec(Code(i), "t" + std::to_string(i)));
    CodeCache::Entry e;
    uint64_t gen;
    ASSERT_TRUE(cache.Find(Code(i), &e, &gen)) << i;
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->target_url, "t" + std::to_string(i));
    ASSERT_LE(cache.Size(), kCapacity) << i;
  }
  // Evicted entries miss; every hit is still the right record.
  size_t hits = 0;
  for (int i = 0; i < 5000; ++i) {
    CodeCache::Entry e;
    uint64_t gen;
    if (!cache.Find(Code(i), &e, &gen)) continue;
    ++hits;
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->code, Code(i));
    EXPECT_EQ(e->target_url, "t" + std::to_string(i));
  }
  EXPECT_EQ(hits, cache.Size());
  EXPECT_GT(hits, 0u);
}

TEST(CodeCacheTest, ReplacingAnEntryEvictsNothing) {
  CodeCache cache(64);  // one entry a shard
  for (int i = 0; i < 200; ++i) cache.Put(Code(i), Rec(Code(i), "t"));
  const size_t size = cache.Size();
  std::vector<std::string> present;
  for (int i = 0; i < 200; ++i) {
    CodeCache::Entry e;
    uint64_t gen;
    if (cache.Find(Code(i), &e, &gen)) present.push_back(Code(i));
  }
  for (const auto& c : present) cache.Put(c, Rec(c, "t2"));
  EXPECT_EQ(cache.Size(), size);
  for (const auto& c : present) {
    CodeCache::Entry e;
    uint64_t gen;
    ASSERT_TRUE(cache.Find(c, &e, &gen)) << c;
    EXPECT_EQ(e->target_url, "t2");
  }
}

// Readers fill from a "store" while a writer updates it and puts: whatever
// the interleaving, once all are done every cached code is the store's
// latest record (the stale fills were dropped).
TEST(CodeCacheTest, ConcurrentStaleFillsNeverOutliveANewerPut) {
  constexpr int kCodes = 200, kVersions = 50, kReaders = 3;
  CodeCache cache(kCodes * 2);
  std::mutex store_mu;
  std::map<std::string, CodeCache::Entry> store;
  for (int i = 0; i < kCodes; ++i) store[Code(i)] = Rec(Code(i), "v0");
  std::atomic<bool> done{false};

  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      for (int i = r; !done.load(); i = (i + 1) % kCodes) {
        CodeCache::Entry e;
        uint64_t gen;
        if (cache.Find(Code(i), &e, &gen)) continue;
        CodeCache::Entry v;
        {
          std::lock_guard lock(store_mu);
          v = store[Code(i)];
        }
        cache.Fill(Code(i), v, gen);
      }
    });
  }
  for (int ver = 1; ver <= kVersions; ++ver) {
    for (int i = 0; i < kCodes; ++i) {
      CodeCache::Entry v = Rec(Code(i), "v" + std::to_string(ver));
      {
        std::lock_guard lock(store_mu);
        store[Code(i)] = v;
      }
      cache.Put(Code(i), v);
    }
  }
  done = true;
  for (auto& t : readers) t.join();

  for (int i = 0; i < kCodes; ++i) {
    CodeCache::Entry e;
    uint64_t gen;
    if (!cache.Find(Code(i), &e, &gen)) continue;
    ASSERT_NE(e, nullptr) << Code(i);
    EXPECT_EQ(e->target_url, "v" + std::to_string(kVersions)) << Code(i);
  }
}

}  // namespace
}  // namespace refgate
