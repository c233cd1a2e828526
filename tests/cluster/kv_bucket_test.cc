// KvBucket against a real nats-server with JetStream (tests/cluster/nats_server.h).
#include "cluster/kv_bucket.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/cluster/nats_server.h"

namespace refgate::cluster {
namespace {

class KvBucketTest : public testing::Test {
 protected:
  void SetUp() override {
    url_ = server_.Url();
    ASSERT_FALSE(url_.empty()) << "nats-server did not start (is it installed?)";
    ASSERT_TRUE(KvBucket::Open(url_, "codes", 1, &kv_).ok());
  }
  NatsServer server_;
  std::string url_;
  std::unique_ptr<KvBucket> kv_;
};

TEST_F(KvBucketTest, CreateIsCompareAndSet) {
  uint64_t rev = 0, again = 0;
  ASSERT_TRUE(kv_->Create("Ab3xY9k", "one", &rev).ok());
  EXPECT_GT(rev, 0u);
  EXPECT_TRUE(kv_->Create("Ab3xY9k", "two", &again).IsAlreadyExists());
  KvEntry e;
  ASSERT_TRUE(kv_->Get("Ab3xY9k", &e).ok());
  EXPECT_EQ(e.value, "one");
  EXPECT_EQ(e.revision, rev);
  EXPECT_TRUE(kv_->Get("nope", &e).IsNotFound());
}

TEST_F(KvBucketTest, UpdateNeedsTheLatestRevision) {
  uint64_t r1 = 0, r2 = 0, r3 = 0;
  ASSERT_TRUE(kv_->Create("c", "v1", &r1).ok());
  ASSERT_TRUE(kv_->Update("c", "v2", r1, &r2).ok());
  EXPECT_GT(r2, r1);
  EXPECT_TRUE(kv_->Update("c", "stale", r1, &r3).IsAlreadyExists());
  KvEntry e;
  ASSERT_TRUE(kv_->Get("c", &e).ok());
  EXPECT_EQ(e.value, "v2");
}

TEST_F(KvBucketTest, OfConcurrentCreatesOneWins) {
  // Two nodes creating one code at once: one 201, the other 409.
  std::unique_ptr<KvBucket> other;
  ASSERT_TRUE(KvBucket::Open(url_, "codes", 1, &other).ok());
  for (int round = 0; round < 20; ++round) {
    const std::string key = "race" + std::to_string(round);
    Status results[2];
    std::thread a([&] {
      uint64_t rev;
      results[0] = kv_->Create(key, "from a", &rev);
    });
    std::thread b([&] {
      uint64_t rev;
      results[1] = other->Create(key, "from b", &rev);
    });
    a.join();
    b.join();
    EXPECT_NE(results[0].ok(), results[1].ok()) << key;
    EXPECT_TRUE(results[0].IsAlreadyExists() || results[1].IsAlreadyExists())
        << results[0].ToString() << " / " << results[1].ToString();
  }
}

// The watch's next entry, waiting up to 30 s; false if none came.
bool NextEntry(KvWatcher* w, KvEntry* e, bool* caught_up) {
  for (int i = 0; i < 300; ++i) {
    bool got = false;
    if (!w->Next(100, e, &got, caught_up).ok()) return false;
    if (got) return true;
  }
  return false;
}

TEST_F(KvBucketTest, TheWatchGivesWhatExistedThenEachChangeInOrder) {
  uint64_t r1 = 0, r2 = 0, r3 = 0;
  ASSERT_TRUE(kv_->Create("a", "1", &r1).ok());
  std::unique_ptr<KvWatcher> w;
  ASSERT_TRUE(kv_->Watch(0, &w).ok());
  bool caught_up = false;
  std::vector<KvEntry> seen(4);
  ASSERT_TRUE(NextEntry(w.get(), &seen[0], &caught_up));
  ASSERT_TRUE(kv_->Update("a", "2", r1, &r2).ok());
  ASSERT_TRUE(kv_->Delete("a").ok());
  ASSERT_TRUE(kv_->Create("a", "3", &r3).ok());  // a deleted key may be created again
  for (size_t i = 1; i < seen.size(); ++i) {
    ASSERT_TRUE(NextEntry(w.get(), &seen[i], &caught_up)) << i;
  }
  EXPECT_TRUE(caught_up);
  EXPECT_EQ(std::pair(seen[0].value, seen[0].revision), std::pair(std::string("1"), r1));
  EXPECT_EQ(std::pair(seen[1].value, seen[1].revision), std::pair(std::string("2"), r2));
  EXPECT_TRUE(seen[2].deleted);
  EXPECT_EQ(std::pair(seen[3].value, seen[3].revision), std::pair(std::string("3"), r3));
  EXPECT_FALSE(seen[3].deleted);
}

TEST_F(KvBucketTest, AWatchResumesAfterARevision) {
  // A node restarted after applying revision r2 gets what came after it only.
  uint64_t r1 = 0, r2 = 0, r3 = 0, r4 = 0;
  ASSERT_TRUE(kv_->Create("a", "1", &r1).ok());
  ASSERT_TRUE(kv_->Create("b", "2", &r2).ok());
  ASSERT_TRUE(kv_->Create("c", "3", &r3).ok());
  std::unique_ptr<KvWatcher> w;
  ASSERT_TRUE(kv_->Watch(r2, &w).ok());
  bool caught_up = false;
  KvEntry e;
  ASSERT_TRUE(NextEntry(w.get(), &e, &caught_up));
  EXPECT_EQ(std::pair(e.key, e.revision), std::pair(std::string("c"), r3));
  EXPECT_TRUE(caught_up);
  ASSERT_TRUE(kv_->Update("a", "1b", r1, &r4).ok());
  ASSERT_TRUE(NextEntry(w.get(), &e, &caught_up));
  EXPECT_EQ(std::pair(e.key, e.value), std::pair(std::string("a"), std::string("1b")));
  EXPECT_EQ(e.revision, r4);
}

TEST(KvBucketOpen, NoServerIsAnIOError) {
  std::unique_ptr<KvBucket> kv;
  Status s = KvBucket::Open("nats://127.0.0.1:1", "codes", 1, &kv);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
}

}  // namespace
}  // namespace refgate::cluster
