// CodeSync against a real nats-server with JetStream: what one node writes
// reaches another's store, compare-and-set holds, a restart resumes.
#include "cluster/code_sync.h"

#include <gtest/gtest.h>

#include "tests/cluster/nats_server.h"
#include "tests/util/scratch_dir.h"
#include "tests/util/test_code.h"

namespace refgate::cluster {
namespace {

// One node: its store and its sync.
struct Node {
  explicit Node(const std::string& url) : url(url) {
    EXPECT_TRUE(CodeStore::Open(dir.path(), 100, &store).ok());
    Start();
  }
  void Start() {
    sync = std::make_unique<CodeSync>(SyncOptions{url, "codes", 1, 2000}, store.get());
  }
  ScratchDir dir;
  std::string url;
  std::unique_ptr<CodeStore> store;
  std::unique_ptr<CodeSync> sync;
};

class CodeSyncTest : public testing::Test {
 protected:
  void SetUp() override {
    url_ = server_.Url();
    ASSERT_FALSE(url_.empty()) << "nats-server did not start (is it installed?)";
    a_ = std::make_unique<Node>(url_);
    b_ = std::make_unique<Node>(url_);
    ASSERT_TRUE(Connected(a_.get()) && Connected(b_.get()));
  }
  static bool Connected(Node* n) {
    for (int i = 0; i < 3000 && !n->sync->connected(); ++i) {  // 30 s at most
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return n->sync->connected();
  }
  // Creates through `n`, retrying while its first connection is being made.
  uint64_t Create(Node* n, const CodeRecord& rec) {
    uint64_t rev = 0;
    Status s;
    for (int i = 0; i < 3000; ++i) {  // 30 s at most
      s = n->sync->Create(rec, &rev);
      if (!s.IsIOError()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rev;
  }
  NatsServer server_;
  std::string url_;
  std::unique_ptr<Node> a_, b_;
};

TEST_F(CodeSyncTest, WhatOneNodeWritesReachesTheOthersStore) {
  const uint64_t rev = Create(a_.get(), TestCode("shared1", "r1"));
  b_->sync->AwaitApplied(rev);
  ASSERT_GE(b_->sync->applied(), rev);
  CodeRecord got;
  ASSERT_TRUE(b_->store->Get("shared1", &got).ok());
  EXPECT_EQ(got.referrer_id, "r1");
  uint64_t at = 0;
  ASSERT_TRUE(b_->store->CodeRevision("shared1", &at).ok());
  EXPECT_EQ(at, rev);
  // The cluster has the code: the second create is refused on either node.
  uint64_t ignored = 0;
  EXPECT_TRUE(b_->sync->Create(TestCode("shared1", "r2"), &ignored).IsAlreadyExists());
}

TEST_F(CodeSyncTest, ReplaceIsCompareAndSet) {
  const uint64_t rev = Create(a_.get(), TestCode("cas1", "r1"));
  CodeRecord rec;
  uint64_t read = 0, first = 0, second = 0;
  ASSERT_TRUE(b_->sync->Read("cas1", &rec, &read).ok());
  EXPECT_EQ(read, rev);
  rec.campaign = "spring";
  ASSERT_TRUE(b_->sync->Replace(rec, read, &first).ok());
  rec.campaign = "stale";
  EXPECT_TRUE(a_->sync->Replace(rec, read, &second).IsAlreadyExists());
  a_->sync->AwaitApplied(first);
  CodeRecord got;
  ASSERT_TRUE(a_->store->Get("cas1", &got).ok());
  EXPECT_EQ(got.campaign, "spring");
  EXPECT_TRUE(a_->sync->Read("nope", &rec, &read).IsNotFound());
}

TEST_F(CodeSyncTest, ARestartResumesFromTheAppliedRevision) {
  Create(a_.get(), TestCode("before", "r1"));
  b_->sync->AwaitApplied(a_->sync->applied());
  b_->sync.reset();  // b is down
  const uint64_t rev = Create(a_.get(), TestCode("during", "r1"));
  b_->Start();
  b_->sync->AwaitApplied(rev);
  CodeRecord got;
  EXPECT_TRUE(b_->store->Get("during", &got).ok());
  uint64_t applied = 0;
  ASSERT_TRUE(b_->store->AppliedRevision(&applied).ok());
  EXPECT_EQ(applied, rev);
}

TEST_F(CodeSyncTest, AStoreAheadOfTheBucketReadsItAgain) {
  // As if the bucket had been deleted and made again: its revisions start
  // over, below what this node applied.
  b_->sync.reset();
  ASSERT_TRUE(b_->store->Apply({}, 1000).ok());
  const uint64_t rev = Create(a_.get(), TestCode("anew", "r1"));
  ASSERT_LT(rev, 1000u);
  b_->Start();
  CodeRecord got;
  for (int i = 0; i < 3000 && !b_->store->Get("anew", &got).ok(); ++i) {  // 30 s at most
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(b_->store->Get("anew", &got).ok());
  EXPECT_EQ(b_->sync->applied(), rev);
}

TEST(CodeSyncUnreachable, WritesAreRefusedAndNothingIsApplied) {
  ScratchDir dir;
  std::unique_ptr<CodeStore> store;
  ASSERT_TRUE(CodeStore::Open(dir.path(), 100, &store).ok());
  CodeSync sync({"nats://127.0.0.1:1", "codes", 1, 200}, store.get());
  uint64_t rev = 0;
  EXPECT_TRUE(sync.Create(TestCode("x", "r"), &rev).IsIOError());
  CodeRecord rec;
  EXPECT_TRUE(sync.Read("x", &rec, &rev).IsIOError());
  EXPECT_TRUE(sync.Replace(TestCode("x", "r"), 3, &rev).IsIOError());
  EXPECT_TRUE(store->Get("x", &rec).IsNotFound());
}

}  // namespace
}  // namespace refgate::cluster
